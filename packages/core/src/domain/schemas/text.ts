import { z } from "zod";

// PostgreSQL refuses NUL in text (22021, a 500 if it gets that far), and other C0 controls
// are never legitimate in names or messages. Tab, newline and carriage return stay allowed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export const noControlCharacters = (value: string) => !CONTROL_CHARACTERS.test(value);
export const CONTROL_CHARACTER_MESSAGE = "Must not contain control characters";

// The schemas also run in the web app, built for browsers older than isWellFormed (2023). With
// the `u` flag a surrogate pair reads as one code point, so \p{Cs} matches only a lone surrogate.
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether a string is Unicode text: no UTF-16 surrogate without its pair. */
export const isWellFormedText = (value: string) =>
  typeof value.isWellFormed === "function" ? value.isWellFormed() : !LONE_SURROGATE.test(value);
export const LONE_SURROGATE_MESSAGE = "Must be valid Unicode text (it has a lone UTF-16 surrogate)";

/**
 * Every string an input accepts starts here. JSON keeps a lone surrogate as a `\udfff` escape
 * that jsonb (and the outbox's payloads) refuse with 22P05: a 500 from deep inside a service,
 * after other writes of the call may already have run. Refused at the door instead, for every
 * string, so no text position is forgotten (a test walks the router and checks each one).
 */
export function text() {
  return z.string().refine(isWellFormedText, LONE_SURROGATE_MESSAGE);
}

/** A UUID, through the same door as every other string. */
export function uuid(message: string) {
  return z.uuid(message).refine(isWellFormedText, LONE_SURROGATE_MESSAGE);
}

/** A single-line text field: trimmed, inner whitespace collapsed, no control characters. */
export function singleLine(min: number, max: number) {
  return text()
    .max(max * 4, `Must be at most ${max} characters`)
    .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
    .transform((value) => value.trim().replace(/\s+/g, " "))
    .pipe(
      z
        .string()
        .min(min, min === 1 ? "Required" : `Must be at least ${min} characters`)
        .max(max, `Must be at most ${max} characters`),
    );
}

/** Multi-line text: trimmed, line breaks kept, no control characters. */
export function multiLine(min: number, max: number) {
  return text()
    .max(max * 4, `Must be at most ${max} characters`)
    .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
    .transform((value) => value.trim())
    .pipe(
      z
        .string()
        .min(min, min === 1 ? "Required" : `Must be at least ${min} characters`)
        .max(max, `Must be at most ${max} characters`),
    );
}

export const emailAddress = text()
  .max(254, "Must be at most 254 characters")
  .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.email("Must be a valid email address"));

/** Opaque tokens we issue (sessions, email links): base32/base64url, bounded. */
export const opaqueToken = text()
  .min(1, "Required")
  .max(200, "Must be at most 200 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "Is not a valid token");
