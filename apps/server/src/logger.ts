import { type Logger, pino } from "pino";
import type { Config } from "./config.ts";

/** Whether to write pino-pretty's lines: asked for, or development with a person at the terminal. */
export function readableLogs(format: Config["logFormat"], isTerminal: boolean): boolean {
  return format === "pretty" || (format === "pretty on a terminal" && isTerminal);
}

/**
 * The process's logger: JSON lines (one object per line, for log collectors) or, for a person
 * at a terminal in development, pino-pretty's readable lines. pino-pretty runs as a stream in
 * this thread rather than as a pino transport: transports load their target by module path in
 * a worker thread, which the esbuild bundle (dist/main.mjs) does not ship. It is imported only
 * when asked for: JSON logging (production, the bench) does not compile it at every start.
 */
export async function createLogger(
  config: Pick<Config, "logLevel" | "logFormat">,
  isTerminal: boolean,
): Promise<Logger> {
  if (!readableLogs(config.logFormat, isTerminal)) return pino({ level: config.logLevel });
  const { default: pretty } = await import("pino-pretty");
  // Synchronous: the fatal line before process.exit is written, not lost in a buffer.
  return pino(
    { level: config.logLevel },
    pretty({ sync: true, singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }),
  );
}
