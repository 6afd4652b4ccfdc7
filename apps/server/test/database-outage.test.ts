import { createParleyClient, TRPCClientError } from "@parley/client";
import { createDb, isConnectionError } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { createConditionWaiter } from "@parley/testing/condition-waiter";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { type PgCluster, startPgCluster } from "@parley/testing/pg-cluster";
import { type ServerProcess, spawnServer } from "@parley/testing/server-process";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

// Its own cluster: stopping the shared one would break every other test file.
let cluster: PgCluster;
let server: ServerProcess;
beforeAll(async () => {
  cluster = await startPgCluster();
  server = await spawnServer({ DATABASE_URL: cluster.url });
});
afterAll(async () => {
  await server?.stop();
  await cluster?.destroy();
});

interface Outcome {
  at: number;
  ok: boolean;
  code?: string;
  status?: number;
}

describe("PostgreSQL restarting under load", () => {
  it("keeps the server up, fails calls cleanly during the outage, and recovers within 10 s", async () => {
    const { token } = await createParleyClient({ url: server.url }).auth.register.mutate({
      email: uniqueEmail(),
      password: GOOD_PASSWORD,
      displayName: "Load",
    });
    const client = createParleyClient({ url: server.url, token });
    const outcomes: Outcome[] = [];
    const { notify, until } = createConditionWaiter();
    const record = (outcome: Outcome) => {
      outcomes.push(outcome);
      notify();
    };

    let running = true;
    const worker = async () => {
      while (running) {
        try {
          const me = await client.auth.me.query();
          record({ at: Date.now(), ok: me !== null });
        } catch (error) {
          if (!(error instanceof TRPCClientError)) throw error;
          record({ at: Date.now(), ok: false, code: error.data?.code, status: error.data?.httpStatus });
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);

    await until(() => outcomes.filter((o) => o.ok).length >= 50);
    await cluster.stop();
    const stoppedAt = Date.now();
    await until(() => outcomes.filter((o) => !o.ok && o.at > stoppedAt).length >= 20);
    expect(server.child.exitCode, server.output()).toBeNull();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

    await cluster.start();
    const restartedAt = Date.now();
    await until(() => outcomes.some((o) => o.ok && o.at > restartedAt));
    const recoveredAt = outcomes.find((o) => o.ok && o.at > restartedAt)?.at ?? Number.POSITIVE_INFINITY;
    running = false;
    await Promise.all(workers);

    expect(recoveredAt - restartedAt).toBeLessThan(10_000);
    const failures = outcomes.filter((o) => !o.ok);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
    }
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(server.output()).not.toMatch(/"level":60/);
  });
});

describe("a connection lost in the middle of a transaction", () => {
  // Seen under load: PostgreSQL stopping or crashing while a transaction held a pool client
  // killed the server with an unhandled 'error' event of that client.
  it("fails the transaction with a connection error; the process and the pool live on", async () => {
    const database = await createFreshDatabase(inject("databaseUrl"));
    const handle = await createDb({ url: database.url, poolSize: 2 });
    // What would end the server process: an 'error' event nobody listens to.
    const uncaught: unknown[] = [];
    const recordUncaught = (error: unknown) => uncaught.push(error);
    process.on("uncaughtException", recordUncaught);
    try {
      const outcome = await handle.db
        .transaction(async (tx) => {
          const { rows } = (await tx.execute(sql`select pg_backend_pid() as pid`)) as unknown as {
            rows: { pid: number }[];
          };
          // From another connection of the pool, as PostgreSQL's shutdown or a crash would.
          await handle.db.execute(sql`select pg_terminate_backend(${rows[0]?.pid ?? 0})`);
          await tx.execute(sql`select 1`);
        })
        .then(
          () => "committed",
          (error: unknown) => error,
        );
      expect(isConnectionError(outcome), String(outcome)).toBe(true);
      const { rows } = (await handle.db.execute(sql`select 1 as one`)) as unknown as { rows: unknown[] };
      expect(rows).toEqual([{ one: 1 }]);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", recordUncaught);
      await handle.close();
      await database.drop();
    }
  });
});
