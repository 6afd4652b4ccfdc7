import { fileURLToPath } from "node:url";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { DbHandle } from "./create-db.ts";

const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));
// Any constant: instances starting together wait for each other instead of racing the migrator.
const MIGRATION_LOCK_KEY = 7_347_101;

/** Applies the committed SQL migrations; safe to call from several instances at once. */
export async function migrate(handle: DbHandle): Promise<void> {
  if (handle.pglite) {
    await migratePglite(handle.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  if (!handle.pool) throw new Error("migrate: the handle has neither a pool nor PGlite");
  const client = await handle.pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await migratePg(drizzlePg(client), { migrationsFolder });
    } finally {
      await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
