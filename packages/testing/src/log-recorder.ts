import { pino } from "pino";
import { createConditionWaiter } from "./condition-waiter.ts";

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export const INFO = 30;
export const WARN = 40;

/** A logger whose JSON lines a test reads, raw and parsed, and can wait for. */
export function recordingLogger(level = "debug") {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const waiter = createConditionWaiter();
  const logger = pino(
    { level },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
        waiter.notify();
      },
    },
  );
  return {
    logger,
    /** Every line as written: for checks that a secret appears nowhere, whatever the field. */
    raw,
    lines,
    /** Resolves with the first line `match` accepts, once it is written. */
    next(match: (line: LogLine) => boolean): Promise<LogLine> {
      return waiter.first(lines, match);
    },
  };
}
