import { createDb, type DbHandle, migrate, shareDataDir } from "@parley/db";
import type { Logger } from "pino";
import type { Config } from "./config.ts";

export interface OpenDatabaseOptions {
  /**
   * "server": this process holds PGlite's data directory and shares it on a socket while it runs.
   * "beside a server" (`pnpm worker`, `admin:create`, `db:migrate`): through that socket when a
   * server holds the directory, else the directory itself. A second server still fails.
   */
  role: "server" | "beside a server";
  log?: Logger;
  /** A PGlite template a new data directory starts as a copy of (the entry points pass builtPgliteTemplate). */
  pgliteTemplate?: string;
  /** PGlite in memory, whatever the config says. */
  memory?: boolean;
  /** See MigrateOptions.onApplying: PostgreSQL is running the pending migrations. */
  onMigrating?: () => void;
}

/**
 * The database of every entry point, opened and migrated: PostgreSQL at DATABASE_URL, else PGlite
 * in DATA_DIR. Closing it also stops sharing the data directory.
 */
export async function openDatabase(
  config: Pick<Config, "databaseUrl" | "dataDir">,
  options: OpenDatabaseOptions,
): Promise<DbHandle> {
  const { log } = options;
  const db = await createDb({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    memory: options.memory,
    pgliteTemplate: options.pgliteTemplate,
    joinRunningServer: options.role === "beside a server",
    onPoolError: log
      ? (error) => log.warn({ err: error }, "database connection lost; the pool will reconnect")
      : undefined,
  });
  try {
    await migrate(db, { onApplying: options.onMigrating });
  } catch (error) {
    await db.close();
    throw error;
  }
  if (options.role !== "server" || !db.pglite || !db.dataDir) return db;
  // The worker, admin:create, db:migrate and psql reach PGlite through this process while it runs.
  try {
    const share = await shareDataDir(db.pglite, db.dataDir);
    return {
      ...db,
      async close() {
        await share.close();
        await db.close();
      },
    };
  } catch (error) {
    log?.warn({ err: error }, "could not share the data directory: other processes cannot reach it");
    return db;
  }
}
