import {
  DomainError,
  type DomainErrorKind,
  HasherBusyError,
  LimitReachedError,
  RateLimitedError,
} from "@parley/core";
import { isConnectionError } from "@parley/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";

/** The one mapping from the domain's refusals to the API's codes (and so to HTTP statuses). */
const DOMAIN_ERROR_CODES = {
  "not-found": "NOT_FOUND",
  forbidden: "FORBIDDEN",
  conflict: "CONFLICT",
  invalid: "BAD_REQUEST",
  unauthenticated: "UNAUTHORIZED",
  "too-large": "PAYLOAD_TOO_LARGE",
} as const satisfies Record<DomainErrorKind, TRPCError["code"]>;

/** A check zod could not make (it needs the database or the user), reported like a zod failure. */
class FieldValidationError extends Error {
  readonly issues: z.core.$ZodIssue[];
  constructor(field: string, message: string) {
    super(message);
    this.issues = [{ code: "custom", path: [field], message, input: undefined }];
  }
}

/** A BAD_REQUEST shaped like a zod failure, so forms show it next to the field. */
export function fieldError(
  field: string,
  message: string,
  code: TRPCError["code"] = "BAD_REQUEST",
): TRPCError {
  return new TRPCError({
    code,
    message: `${field}: ${message}`,
    cause: new FieldValidationError(field, message),
  });
}

/**
 * Turns what services and infrastructure throw into the API's error codes: the domain's one
 * error type through DOMAIN_ERROR_CODES; limits, the busy hasher and a lost database, which are
 * the infrastructure's and not domain outcomes, each as itself. Anything not
 * recognised stays an INTERNAL_SERVER_ERROR, whose message the formatter hides.
 */
export function toApiError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (cause instanceof DomainError) {
    const code = DOMAIN_ERROR_CODES[cause.kind];
    if (cause.field) return fieldError(cause.field, cause.message, code);
    return new TRPCError({ code, message: cause.message });
  }
  if (cause instanceof RateLimitedError) {
    return new TRPCError({ code: "TOO_MANY_REQUESTS", message: cause.message, cause });
  }
  if (cause instanceof HasherBusyError) {
    const message = "The server is busy: retry in a moment";
    return new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message,
      cause: new LimitReachedError("passwordHashQueue", message),
    });
  }
  if (error.code === "INTERNAL_SERVER_ERROR" && isConnectionError(cause ?? error)) {
    return new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: "The database is unavailable: retry in a moment",
      cause,
    });
  }
  return error;
}

/** zod's own failures, and FieldValidationError's (zod 4's ZodError is not an Error to carry as a cause). */
export function asZodError(cause: unknown): z.ZodError | null {
  if (cause instanceof z.ZodError) return cause;
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? new z.ZodError(issues) : null;
}

/** A short human message from a zod failure: "email: Must be a valid email address; …". */
export function summarizeZodError(error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  if (error.issues.length > 5) parts.push(`and ${error.issues.length - 5} more`);
  return parts.join("; ");
}
