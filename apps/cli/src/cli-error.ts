/**
 * The CLI's exit codes: part of its interface, for scripts that call it. `parley --help` and
 * apps/cli/README.md list them from EXIT_CODE_HELP; a test holds the two to this table.
 */
export const ExitCode = {
  ok: 0,
  /** The server refused (not allowed, a conflict, its own error), or a local step failed. */
  failed: 1,
  /** Bad usage: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** Not signed in, session expired, or wrong email or password. */
  auth: 3,
  /** No such room, user or other thing, or none that you may see. */
  notFound: 4,
  /** The server could not be reached (not running, wrong --url, network down). */
  unreachable: 5,
} as const;

export type ExitCodeName = keyof typeof ExitCode;
export type ExitCodeValue = (typeof ExitCode)[ExitCodeName];

/** One line per code, for --help. */
export const EXIT_CODE_HELP: Record<ExitCodeName, string> = {
  ok: "done",
  failed: "the server refused (not allowed, a conflict, its own error)",
  usage: "bad usage: unknown command or option, missing or invalid argument",
  auth: "not signed in, session ended, or wrong email or password",
  notFound: "no such room or user (or none you may see)",
  unreachable: "cannot reach the server (not running? wrong --url?)",
};

export const exitCodeName = (code: ExitCodeValue): ExitCodeName =>
  (Object.keys(ExitCode) as ExitCodeName[]).find((name) => ExitCode[name] === code) ?? "failed";

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
  // By name, not instanceof: importing the class would load the tRPC client for every command,
  // `parley --help` included.
  if (error instanceof Error && error.name === "TRPCClientError" && "data" in error) {
    const data: unknown = error.data;
    const code = isRecord(data) && typeof data.code === "string" ? data.code : null;
    if (code === "UNAUTHORIZED") return new CliError(error.message, ExitCode.auth);
    if (code === "NOT_FOUND") return new CliError(error.message, ExitCode.notFound);
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
      ExitCode.unreachable,
    );
  }
  return new CliError(error instanceof Error ? error.message : String(error));
}
