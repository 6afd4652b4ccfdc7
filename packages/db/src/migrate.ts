import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import type { DbHandle } from "./db-handle.ts";

/**
 * The SQL migrations: ../drizzle from this file in the source tree; ./drizzle beside the server's
 * bundle (apps/server/dist), where its build copies them.
 */
function findMigrationsFolder(): string {
  const candidates = ["../drizzle", "./drizzle"].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return candidates.find((dir) => existsSync(`${dir}/meta/_journal.json`)) ?? (candidates[0] as string);
}
const migrationsFolder = findMigrationsFolder();
// Any constant: instances starting together wait for each other instead of racing the migrator.
const MIGRATION_LOCK_KEY = 7_347_101;
/** drizzle's own bookkeeping table: drizzle-kit and drizzle's migrator read the same rows. */
const MIGRATIONS_TABLE = '"drizzle"."__drizzle_migrations"';

/**
 * Whether the database already has the newest migration, by drizzle's own test (a migration is
 * applied when its folder time is not after the last recorded one's): one query, no lock, so a
 * restart of an up-to-date deployment skips the migrator. False when the table is missing.
 */
async function upToDate(query: (text: string) => Promise<{ rows: unknown[] }>): Promise<boolean> {
  const newest = Math.max(...readMigrationFiles({ migrationsFolder }).map((m) => m.folderMillis));
  try {
    // Asked first so that a new database logs no "relation does not exist" error.
    const table = await query(
      `select to_regclass('"drizzle"."__drizzle_migrations"') is not null as present`,
    );
    if ((table.rows[0] as { present?: boolean } | undefined)?.present !== true) return false;
    const { rows } = await query(
      'select created_at from "drizzle"."__drizzle_migrations" order by created_at desc limit 1',
    );
    const last = (rows[0] as { created_at?: unknown } | undefined)?.created_at;
    return last !== undefined && last !== null && Number(last) >= newest;
  } catch {
    return false;
  }
}

export interface MigrateOptions {
  /**
   * Called once PostgreSQL has the pending migrations' script and is running it (not called
   * when nothing is pending, nor on PGlite): a caller with other work for its thread can start it
   * now. Its replies wait for a busy thread, so work started earlier would hold the script back.
   */
  onApplying?: () => void;
}

/** Applies the committed SQL migrations; safe to call from several instances at once. */
export async function migrate(handle: DbHandle, options: MigrateOptions = {}): Promise<void> {
  if (handle.pglite) {
    const pglite = handle.pglite;
    if (await upToDate((text) => pglite.query(text))) return;
    const { migrate: migratePglite } = await import("drizzle-orm/pglite/migrator");
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  const pool = handle.pool;
  if (!pool) throw new Error("migrate: the handle has neither a pool nor PGlite");
  if (await upToDate((text) => pool.query(text))) return;
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(
        `create schema if not exists "drizzle"; create table if not exists ${MIGRATIONS_TABLE} (id serial primary key, hash text not null, created_at bigint)`,
      );
      const { rows } = await client.query<{ created_at: string | null }>(
        `select created_at from ${MIGRATIONS_TABLE} order by created_at desc limit 1`,
      );
      const last = rows[0]?.created_at;
      const pending = readMigrationFiles({ migrationsFolder }).filter(
        (m) => last === undefined || last === null || Number(last) < m.folderMillis,
      );
      if (pending.length === 0) return;
      // What drizzle's migrator does (the same statements, the same bookkeeping rows, all in one
      // transaction), sent as one script: drizzle sends ~100 statements one at a time, each
      // waiting for this process, whose thread is busy loading the server while they run (see
      // main.ts). A script without BEGIN runs as one transaction: a failing statement undoes all.
      const script = pending.flatMap((m) => [
        ...m.sql,
        `insert into ${MIGRATIONS_TABLE} ("hash", "created_at") values ('${m.hash}', ${m.folderMillis})`,
      ]);
      // A newline before each ";": a statement may end in a "--" comment.
      const applied = client.query(script.join("\n;\n"));
      options.onApplying?.();
      await applied;
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
