import {
  AuthError,
  ChatError,
  FormsError,
  HasherBusyError,
  LimitReachedError,
  OutboxError,
  RateLimitedError,
  UserAdminError,
} from "@parley/core";
import { isConnectionError } from "@parley/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";

const AUTH_ERROR_CODES = {
  "email-taken": "CONFLICT",
  "bad-credentials": "UNAUTHORIZED",
  "wrong-current-password": "FORBIDDEN",
  "invalid-token": "BAD_REQUEST",
  "already-verified": "BAD_REQUEST",
  "session-not-found": "NOT_FOUND",
  "password-is-email": "BAD_REQUEST",
} as const satisfies Record<AuthError["reason"], TRPCError["code"]>;

const CHAT_ERROR_CODES = {
  "not-found": "NOT_FOUND",
  forbidden: "FORBIDDEN",
  conflict: "CONFLICT",
  invalid: "BAD_REQUEST",
} as const satisfies Record<ChatError["reason"], TRPCError["code"]>;

const FORMS_ERROR_CODES = {
  "submission-not-found": "NOT_FOUND",
  "bad-cursor": "BAD_REQUEST",
} as const satisfies Record<FormsError["reason"], TRPCError["code"]>;

const USER_ADMIN_ERROR_CODES = {
  "user-not-found": "NOT_FOUND",
  "last-admin": "CONFLICT",
  "bad-cursor": "BAD_REQUEST",
} as const satisfies Record<UserAdminError["reason"], TRPCError["code"]>;

const OUTBOX_ERROR_CODES = {
  "job-not-found": "NOT_FOUND",
  "job-not-retryable": "CONFLICT",
  "bad-cursor": "BAD_REQUEST",
} as const satisfies Record<OutboxError["reason"], TRPCError["code"]>;

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
 * Turns what services and infrastructure throw into the API's error codes. Anything not
 * recognised stays an INTERNAL_SERVER_ERROR, whose message the formatter hides.
 */
export function toApiError(error: TRPCError): TRPCError {
  const cause = error.cause;
  if (cause instanceof AuthError) {
    if (cause.field) return fieldError(cause.field, cause.message);
    return new TRPCError({ code: AUTH_ERROR_CODES[cause.reason], message: cause.message });
  }
  if (cause instanceof ChatError) {
    if (cause.field) return fieldError(cause.field, cause.message, CHAT_ERROR_CODES[cause.reason]);
    return new TRPCError({ code: CHAT_ERROR_CODES[cause.reason], message: cause.message });
  }
  if (cause instanceof FormsError) {
    if (cause.field) return fieldError(cause.field, cause.message);
    return new TRPCError({ code: FORMS_ERROR_CODES[cause.reason], message: cause.message });
  }
  if (cause instanceof UserAdminError) {
    if (cause.field) return fieldError(cause.field, cause.message);
    return new TRPCError({ code: USER_ADMIN_ERROR_CODES[cause.reason], message: cause.message });
  }
  if (cause instanceof OutboxError) {
    if (cause.field) return fieldError(cause.field, cause.message);
    return new TRPCError({ code: OUTBOX_ERROR_CODES[cause.reason], message: cause.message });
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
