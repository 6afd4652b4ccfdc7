import { pino } from "pino";

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
  const waiters = new Set<() => void>();
  const logger = pino(
    { level },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
        for (const wake of [...waiters]) wake();
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
      return new Promise((resolve) => {
        const check = () => {
          const found = lines.find(match);
          if (!found) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
