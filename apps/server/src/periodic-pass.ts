import type { Logger } from "pino";

export interface PeriodicPass {
  /** One pass now (the timer runs the same); resolves to what the pass returned. */
  runNow(): Promise<number>;
  /** Stops the timer and waits for the pass in flight, so it ends before the database closes. */
  close(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs` and once at start (no timer when `intervalMs` is null), one pass
 * at a time: a slow pass is not joined by the next tick's, a caller of runNow during it shares it.
 * A failed pass is logged as `failure` and tried again at the next tick.
 */
export function startPeriodicPass(options: {
  log: Logger;
  intervalMs: number | null;
  pass: () => Promise<number>;
  failure: string;
}): PeriodicPass {
  const { log, intervalMs, pass, failure } = options;
  let running: Promise<number> | null = null;

  function runNow(): Promise<number> {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  function tick() {
    runNow().catch((error: unknown) => log.warn({ err: error }, failure));
  }

  const timer = intervalMs === null ? null : setInterval(tick, intervalMs);
  timer?.unref();
  if (timer) tick();

  return {
    runNow,
    async close() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
