import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { findPsql, type PgCluster, startPgCluster } from "@parley/testing/pg-cluster";
import { afterAll, describe, expect, inject, it } from "vitest";

const run = promisify(execFile);

/** The single value printed by `sql`, or a rejection when psql cannot connect or the SQL fails. */
async function query(url: string, sql: string): Promise<string> {
  const { stdout } = await run(
    findPsql(),
    ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
    {
      env: { ...process.env, PGCONNECT_TIMEOUT: "5" },
    },
  );
  return stdout.trim();
}

describe("startPgCluster", () => {
  let cluster: PgCluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("starts a cluster that answers, stops, starts again on the same port, and is destroyed", async () => {
    const lines: string[] = [];
    cluster = await startPgCluster({ log: (line) => lines.push(line) });
    const { url, port, dataDir } = cluster;
    expect(url).toBe(`postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(existsSync(dataDir)).toBe(true);
    expect(lines.join("\n")).toContain(`127.0.0.1:${port}`);

    expect(await query(url, "select 1")).toBe("1");
    expect(await query(url, "show fsync")).toBe("off");
    await query(url, "create table kept (v int); insert into kept values (42)");

    await cluster.stop();
    await expect(query(url, "select 1")).rejects.toThrow();
    await cluster.stop(); // already stopped: nothing to do

    await cluster.start();
    expect(cluster.port).toBe(port);
    expect(await query(url, "select v from kept")).toBe("42");

    await cluster.restart();
    expect(await query(url, "select 1")).toBe("1");

    await cluster.destroy();
    expect(existsSync(dataDir)).toBe(false);
    await expect(query(url, "select 1")).rejects.toThrow();
    await cluster.destroy(); // idempotent
  });

  it("gives each cluster its own port", async () => {
    const [a, b] = await Promise.all([startPgCluster(), startPgCluster()]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(await query(a.url, "select 1")).toBe("1");
      expect(await query(b.url, "select 1")).toBe("1");
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });
});

describe("the shared test database", () => {
  it("is provided by the global setup, and createFreshDatabase isolates and drops databases", async () => {
    const baseUrl = inject("databaseUrl");
    expect(await query(baseUrl, "select 1")).toBe("1");

    const one = await createFreshDatabase(baseUrl);
    const two = await createFreshDatabase(baseUrl);
    expect(one.url).not.toBe(two.url);
    const name = new URL(one.url).pathname.slice(1);
    expect(name).toMatch(/^parley_test_[0-9a-f]+$/);

    await query(one.url, "create table only_here (v int)");
    expect(await query(one.url, "select current_database()")).toBe(name);
    expect(await query(two.url, "select to_regclass('only_here') is null")).toBe("t");

    await one.drop();
    await one.drop(); // idempotent
    await two.drop();
    expect(await query(baseUrl, `select count(*) from pg_database where datname = '${name}'`)).toBe("0");
  });
});
