import { createDb, type DbHandle, migrate } from "@parley/db";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { afterEach, describe, expect, inject, it } from "vitest";
import { startTestServer } from "./support/test-server.ts";

/** The indexes this backend has loaded into its relation cache (one "index info" context each). */
async function indexesCachedBy(query: (text: string) => Promise<{ rows: unknown[] }>): Promise<string[]> {
  const { rows } = await query("select ident from pg_backend_memory_contexts where name = 'index info'");
  return (rows as { ident: string }[]).map((row) => row.ident);
}

describe("warming the PostgreSQL pool (pool-warmup.ts)", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  async function handleOn(
    url: string,
    poolSize: number,
  ): Promise<DbHandle & { pool: NonNullable<DbHandle["pool"]> }> {
    const handle = await createDb({ url, poolSize });
    cleanup.push(() => handle.close());
    if (!handle.pool || !handle.warm) throw new Error("a PostgreSQL handle has a pool and warms it");
    return Object.assign(handle, { pool: handle.pool });
  }
  async function freshUrl(): Promise<string> {
    const database = await createFreshDatabase(inject("databaseUrl"));
    cleanup.push(() => database.drop());
    return database.url;
  }

  it("opens every connection of the pool and loads the send statement's indexes into each backend, where a new backend has none of them", async () => {
    const url = await freshUrl();
    const handle = await handleOn(url, 3);
    await migrate(handle);
    expect(await handle.warm?.()).toEqual({ connections: 3, failed: [] });
    expect(handle.pool.totalCount).toBe(3);
    const clients = await Promise.all([1, 2, 3].map(() => handle.pool.connect()));
    try {
      expect(handle.pool.totalCount).toBe(3);
      for (const client of clients) {
        const cached = await indexesCachedBy((text) => client.query(text));
        // The send's: the search index (its insert) and the idempotency key.
        expect(cached).toEqual(
          expect.arrayContaining(["messages_content_search_idx", "messages_user_client_id_idx"]),
        );
      }
    } finally {
      for (const client of clients) client.release();
    }
    const cold = await handleOn(url, 1);
    expect(await indexesCachedBy((text) => cold.pool.query(text))).not.toContain(
      "messages_content_search_idx",
    );
  });

  it("on a database without Parley's tables, reports every statement it could not warm and still opens the connections", async () => {
    const handle = await handleOn(await freshUrl(), 2);
    const warmed = await handle.warm?.();
    expect(warmed?.connections).toBe(2);
    expect(warmed?.failed).toEqual(expect.arrayContaining(["parley_send_message", "parley_history_before"]));
    // The connections still answer: a failed warm-up leaves nothing half-done on them.
    expect((await handle.pool.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
  });

  it("a server warms its pool once it listens: every connection of the pool open, the send's indexes cached on each", async () => {
    const t = await startTestServer({ poolWarmupDelayMs: 0 });
    cleanup.push(() => t.close());
    const pool = t.server.db.pool;
    if (!pool) throw new Error("the test server runs on PostgreSQL, with a pool");
    expect(pool.totalCount).toBe(10);
    const clients = await Promise.all(Array.from({ length: 10 }, () => pool.connect()));
    try {
      expect(pool.totalCount).toBe(10);
      for (const client of clients) {
        expect(await indexesCachedBy((text) => client.query(text))).toContain("messages_content_search_idx");
      }
    } finally {
      for (const client of clients) client.release();
    }
  });
});
