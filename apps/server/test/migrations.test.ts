import { fileURLToPath } from "node:url";
import { createDb, type DbHandle, migrate } from "@parley/db";
import { createFreshDatabase, type FreshDatabase } from "@parley/testing/fresh-database";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate as drizzleMigrate } from "drizzle-orm/node-postgres/migrator";
import { afterEach, describe, expect, inject, it } from "vitest";

const migrationsFolder = fileURLToPath(new URL("../../../packages/db/drizzle", import.meta.url));

/** What the migrations leave behind: every column, index, constraint, trigger and function, and drizzle's rows. */
async function schemaOf(handle: DbHandle) {
  const pool = handle.pool;
  if (!pool) throw new Error("a PostgreSQL handle has a pool");
  const rows = async (text: string) => (await pool.query(text)).rows;
  return {
    columns: await rows(`select table_schema, table_name, column_name, data_type, udt_name, is_nullable,
        column_default from information_schema.columns where table_schema in ('public', 'drizzle')
        order by 1, 2, 3`),
    indexes: await rows(
      `select schemaname, tablename, indexname, indexdef from pg_indexes where schemaname in ('public', 'drizzle') order by 1, 2, 3`,
    ),
    constraints: await rows(`select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def
        from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`),
    triggers: await rows(`select tgrelid::regclass::text as rel, tgname, pg_get_triggerdef(oid) as def
        from pg_trigger where not tgisinternal order by 1, 2`),
    functions: await rows(`select proname, pg_get_functiondef(oid) as def from pg_proc
        where pronamespace = 'public'::regnamespace order by 1`),
    enums: await rows(`select t.typname, e.enumlabel, e.enumsortorder from pg_enum e
        join pg_type t on t.oid = e.enumtypid order by 1, 3`),
    applied: await rows(`select hash, created_at from "drizzle"."__drizzle_migrations" order by id`),
  };
}

describe("migrations on PostgreSQL (one script instead of drizzle's statement-by-statement migrator)", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  async function freshHandle(): Promise<DbHandle & { url: string }> {
    const database: FreshDatabase = await createFreshDatabase(inject("databaseUrl"));
    const handle = await createDb({ url: database.url });
    cleanup.push(
      () => database.drop(),
      () => handle.close(),
    );
    return Object.assign(handle, { url: database.url });
  }

  it("leaves the same schema and the same bookkeeping rows as drizzle's own migrator", async () => {
    const ours = await freshHandle();
    const theirs = await freshHandle();
    await migrate(ours);
    const pool = theirs.pool;
    if (!pool) throw new Error("a PostgreSQL handle has a pool");
    await drizzleMigrate(drizzle(pool), { migrationsFolder });

    const [mine, drizzles] = [await schemaOf(ours), await schemaOf(theirs)];
    expect(mine.applied.length).toBeGreaterThan(0);
    expect(mine).toEqual(drizzles);
    // A database drizzle migrated is up to date for ours, and the reverse: nothing is applied twice.
    await migrate(theirs);
    await drizzleMigrate(drizzle(ours.pool ?? pool), { migrationsFolder });
    expect((await schemaOf(theirs)).applied).toEqual(drizzles.applied);
    expect((await schemaOf(ours)).applied).toEqual(mine.applied);
  });

  it("leaves the search index with a 64 kB pending list, so that no send merges megabytes of it", async () => {
    const handle = await freshHandle();
    await migrate(handle);
    const [index] = (await schemaOf(handle)).indexes.filter(
      (row) => row.indexname === "messages_content_search_idx",
    );
    expect(index?.indexdef).toMatch(/ USING gin .* WITH \(fastupdate='on', gin_pending_list_limit='64'\)$/);
  });

  it("applies each migration once when several instances start together", async () => {
    const first = await freshHandle();
    const url = first.url;
    const others = await Promise.all(
      [1, 2, 3].map(async () => {
        const handle = await createDb({ url });
        cleanup.push(() => handle.close());
        return handle;
      }),
    );
    await Promise.all([first, ...others].map((handle) => migrate(handle)));
    const { applied } = await schemaOf(first);
    expect(new Set(applied.map((row) => row.hash)).size).toBe(applied.length);
    const theirs = await freshHandle();
    const pool = theirs.pool;
    if (!pool) throw new Error("a PostgreSQL handle has a pool");
    await drizzleMigrate(drizzle(pool), { migrationsFolder });
    expect(applied).toEqual((await schemaOf(theirs)).applied);
  });

  it("says when PostgreSQL is running the pending migrations, before they are applied, and not on a migrated database", async () => {
    const handle = await freshHandle();
    const told: string[] = [];
    await migrate(handle, { onApplying: () => told.push("applying") }).then(() => told.push("applied"));
    expect(told).toEqual(["applying", "applied"]);
    expect((await schemaOf(handle)).applied.length).toBeGreaterThan(0);

    await migrate(handle, { onApplying: () => told.push("applying again") });
    expect(told).toEqual(["applying", "applied"]);
  });
});
