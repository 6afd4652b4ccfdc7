import { DataDirLockedError, isConnectionError } from "@parley/db";
import type { Logger } from "pino";

/**
 * For a long-running entry (the server, the worker): on SIGTERM or SIGINT, close once, log it and
 * exit 0. `name` starts the log lines ("email worker shutting down").
 */
export function closeOnSignals(log: Logger, close: () => Promise<void>, name?: string): void {
  const line = (text: string) => (name ? `${name} ${text}` : text);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, line("shutting down"));
    await close();
    log.info(line("stopped"));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

/** A start that failed: one fatal line, then exit code 1. */
export function exitOnStartFailure(log: Logger, error: unknown, fallback: string): never {
  // An expected refusal is its message alone: a stack would only bury what to do.
  if (error instanceof DataDirLockedError) log.fatal(error.message);
  else if (isConnectionError(error) && error instanceof Error) {
    log.fatal(
      `${error.message}: is the database at DATABASE_URL (or Redis at REDIS_URL) running and reachable?`,
    );
  } else log.fatal({ err: error }, error instanceof Error ? error.message : fallback);
  process.exit(1);
}
