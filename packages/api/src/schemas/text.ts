import { z } from "zod";

// PostgreSQL refuses NUL in text (22021, a 500 if it gets that far), and other C0 controls
// are never legitimate in names or messages. Tab, newline and carriage return stay allowed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export const noControlCharacters = (value: string) => !CONTROL_CHARACTERS.test(value);
export const CONTROL_CHARACTER_MESSAGE = "Must not contain control characters";

/** A single-line text field: trimmed, inner whitespace collapsed, no control characters. */
export function singleLine(min: number, max: number) {
  return z
    .string()
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
  return z
    .string()
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

export const emailAddress = z
  .string()
  .max(254, "Must be at most 254 characters")
  .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.email("Must be a valid email address"));

/** Opaque tokens we issue (sessions, email links): base32/base64url, bounded. */
export const opaqueToken = z
  .string()
  .min(1, "Required")
  .max(200, "Must be at most 200 characters")
  .regex(/^[A-Za-z0-9_-]+$/, "Is not a valid token");
