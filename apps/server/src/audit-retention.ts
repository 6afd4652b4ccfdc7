import { purgeAuditLog } from "@parley/core";
import type { Database } from "@parley/db";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { startPeriodicPass } from "./periodic-pass.ts";

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
  const job = startPeriodicPass({
    log,
    intervalMs: days > 0 ? intervalMs : null,
    failure: "audit purge failed; retrying next time",
    pass: async () => {
      const removed = await purgeAuditLog({ db: options.db, clock: options.clock }, { retentionDays: days });
      if (removed > 0) log.info({ removed, retentionDays: days }, "old audit entries purged");
      return removed;
    },
  });
  return { purge: job.runNow, close: job.close };
}
