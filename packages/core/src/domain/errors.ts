/**
 * What a domain service refuses, in the domain's words: one error type for every service, which
 * the transport maps to its own codes in one place (packages/api/src/errors.ts). The message is
 * what the caller reads; `field` names the input field it belongs to, for forms.
 */
export type DomainErrorKind =
  /** The thing does not exist, or the caller may not know it does. */
  | "not-found"
  /** The caller is known but may not do this. */
  | "forbidden"
  /** The request clashes with the current state (a taken email, the last admin, a sent job). */
  | "conflict"
  /** The input is well-formed but not acceptable (a bad cursor, an expired token). */
  | "invalid"
  /** The caller's proof of identity was wrong (a login with a wrong password). */
  | "unauthenticated"
  /** The thing is bigger than the configured limit (an upload over UPLOAD_MAX_BYTES). */
  | "too-large";

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const roomNotFound = () => new DomainError("not-found", "No such room");
export const messageNotFound = () => new DomainError("not-found", "No such message");
