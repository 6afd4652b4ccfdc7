import { purgeAuditLog } from "@parley/core";
import type { Database } from "@parley/db";
import type { Logger } from "pino";
import type { Config } from "./config.ts";

export interface AuditRetention {
  /** One purge now (the timer runs the same); resolves to the number of entries removed. */
  purge(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Purges audit entries older than the retention setting, on the server's clock, every
 * `intervalMs` (and once at start). Several instances may purge at once: the deletes are
 * idempotent and batched, so they only share the work.
 */
export function startAuditRetention(options: {
  db: Database;
  log: Logger;
  clock: () => Date;
  config: Pick<Config, "auditRetention">;
}): AuditRetention {
  const { days, intervalMs } = options.config.auditRetention;
  const log = options.log.child({ component: "audit-retention" });
  let running: Promise<number> | null = null;

  function purge(): Promise<number> {
    // One pass at a time: a slow pass is not joined by the next tick's.
    running ??= purgeAuditLog({ db: options.db, clock: options.clock }, { retentionDays: days })
      .then((removed) => {
        if (removed > 0) log.info({ removed, retentionDays: days }, "old audit entries purged");
        return removed;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  function tick() {
    purge().catch((error: unknown) => log.warn({ err: error }, "audit purge failed; retrying next time"));
  }

  const timer = days > 0 ? setInterval(tick, intervalMs) : null;
  timer?.unref();
  if (days > 0) tick();

  return {
    purge,
    async close() {
      if (timer) clearInterval(timer);
      // Before the database closes: the pass in flight finishes.
      await running?.catch(() => undefined);
    },
  };
}
