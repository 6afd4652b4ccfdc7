import { attachmentsService, type UploadSettings } from "@parley/core";
import type { Database } from "@parley/db";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { startPeriodicPass } from "./periodic-pass.ts";

export interface AttachmentSweeper {
  /** One pass now (the timer runs the same); resolves to the number of files removed. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/** Files removed per pass: a backlog is worked off over several passes, not in one long one. */
const BATCH = 200;

/**
 * Removes uploads never sent within UPLOAD_ABANDON_MS and the files of deleted messages, on the
 * server's clock, every `sweepIntervalMs` (and once at start). Instances sweeping at once share
 * the work: each row is taken under a SKIP LOCKED lock.
 */
export function startAttachmentSweeper(options: {
  db: Database;
  log: Logger;
  clock: () => Date;
  uploads: Pick<UploadSettings, "store" | "abandonMs">;
  config: Pick<Config, "uploads">;
}): AttachmentSweeper {
  const log = options.log.child({ component: "attachment-sweeper" });
  const job = startPeriodicPass({
    log,
    intervalMs: options.config.uploads.sweepIntervalMs,
    failure: "file sweep failed; retrying next time",
    pass: async () => {
      const deps = { db: options.db, clock: options.clock, uploads: options.uploads };
      const removed = await attachmentsService.sweepAttachments(deps, { limit: BATCH });
      if (removed > 0) log.info({ removed }, "unsent and deleted files removed");
      return removed;
    },
  });
  return { sweep: job.runNow, close: job.close };
}
