import { TRPCClientError } from "@parley/client";

/** The CLI's exit codes: part of its interface, for scripts that call it. */
export const ExitCode = {
  ok: 0,
  /** The server refused, or could not be reached. */
  failed: 1,
  /** Bad usage: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** Not signed in, session expired, or wrong email or password. */
  auth: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure with the message a person should read and the exit code a script should see. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failed,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.usage);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** "--field: message" lines from a validation failure's flattened field errors. */
function fieldErrorLines(data: unknown): string[] {
  const zodError = isRecord(data) ? data.zodError : null;
  if (!isRecord(zodError)) return [];
  const lines: string[] = [];
  if (isRecord(zodError.fieldErrors)) {
    for (const [field, messages] of Object.entries(zodError.fieldErrors)) {
      if (Array.isArray(messages)) lines.push(`  ${field}: ${messages.join("; ")}`);
    }
  }
  if (Array.isArray(zodError.formErrors))
    for (const message of zodError.formErrors) lines.push(`  ${message}`);
  return lines;
}

/** Why a call failed, in words, with the exit code it maps to. */
export function describeFailure(error: unknown, url: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof TRPCClientError) {
    const data: unknown = error.data;
    const code = isRecord(data) && typeof data.code === "string" ? data.code : null;
    if (code === "UNAUTHORIZED") return new CliError(error.message, ExitCode.auth);
    if (code === "BAD_REQUEST") {
      const lines = fieldErrorLines(data);
      return new CliError(
        lines.length ? `Invalid input:\n${lines.join("\n")}` : error.message,
        ExitCode.usage,
      );
    }
    if (code === "FORBIDDEN") return new CliError(`Not allowed: ${error.message}`);
    if (code !== null) return new CliError(error.message);
    // No tRPC code: the request never got an answer.
    return new CliError(
      `Cannot reach the Parley server at ${url} (${error.message}). Is it running? Try --url.`,
    );
  }
  return new CliError(error instanceof Error ? error.message : String(error));
}
