import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "./create-db.ts";
import {
  type DataDirShare,
  dataDirIsShared,
  dataDirSocketPath,
  shareDataDir,
  waitForDataDirShare,
} from "./data-dir-socket.ts";
import { migrate } from "./migrate.ts";
import { createPgliteTemplate } from "./pglite-template-build.ts";
import { users } from "./schema.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// PGlite's initdb takes seconds of CPU (most of a test here): each data directory starts as a copy
// of one template made for the file, as the server's data directory does (pglite.test.ts covers
// the template itself and a start without one).
let template = "";
beforeAll(async () => {
  template = join(mkdtempSync(join(tmpdir(), "parley-share-template-")), "template");
  await createPgliteTemplate(template);
});
afterAll(() => rmSync(dirname(template), { recursive: true, force: true }));

/** A migrated PGlite in a temp directory, shared on its socket, as the server runs it. */
async function sharedDatabase(
  options: { idleTurnMs?: number } = {},
): Promise<{ host: DbHandle; share: DataDirShare; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-share-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const host = await createDb({ dataDir, pgliteTemplate: template });
  cleanups.push(() => host.close());
  await migrate(host);
  const pglite = host.pglite;
  if (!pglite) throw new Error("expected PGlite");
  const share = await shareDataDir(pglite, dataDir, options);
  cleanups.push(() => share.close());
  return { host, share, dataDir };
}

async function connect(dataDir: string): Promise<pg.Client> {
  const client = new pg.Client({ host: dataDir, port: 5432, user: "postgres", database: "postgres" });
  await client.connect();
  cleanups.push(() => client.end().catch(() => {}));
  return client;
}

const user = (id: string) => ({ id, email: `${id}@example.com`, displayName: id, passwordHash: "x" });

describe("a PGlite data directory shared on its socket", () => {
  it("answers a pg client, only to this OS user, while the host keeps querying", async () => {
    const { host, dataDir } = await sharedDatabase();
    expect(statSync(dataDirSocketPath(dataDir)).mode & 0o777).toBe(0o600);
    const client = await connect(dataDir);
    await host.db.insert(users).values(user("from-host"));
    await client.query(
      "insert into users (id, email, display_name, password_hash) values ($1, $2, $3, 'x')",
      ["from-client", "from-client@example.com", "From client"],
    );
    const { rows } = await client.query<{ id: string }>("select id from users order by id");
    expect(rows.map((r) => r.id)).toEqual(["from-client", "from-host"]);
    const seen = await host.db.select().from(users).where(eq(users.id, "from-client"));
    expect(seen).toHaveLength(1);
  });

  it("never runs the host's queries inside a client's transaction, nor the client's inside the host's", async () => {
    const { host, dataDir } = await sharedDatabase();
    const client = await connect(dataDir);
    const insert = (id: string) =>
      client.query("insert into users (id, email, display_name, password_hash) values ($1, $2, 'x', 'x')", [
        id,
        `${id}@example.com`,
      ]);
    // Each round, each side writes while the other is inside a transaction that it then rolls
    // back: a write that ran inside the other side's transaction would vanish with it.
    for (let round = 0; round < 20; round++) {
      await client.query("begin");
      const hostWrite = host.db
        .insert(users)
        .values(user(`kept-h${round}`))
        .execute();
      await insert(`discarded-c${round}`);
      await client.query("rollback");
      await hostWrite;

      let clientWrite: Promise<unknown> = Promise.resolve();
      await host.db
        .transaction(async (tx) => {
          await tx.insert(users).values(user(`discarded-h${round}`));
          clientWrite = insert(`kept-c${round}`);
          for (let i = 0; i < 3; i++) await tx.execute(sql`select 1`);
          tx.rollback();
        })
        .catch(() => {});
      await clientWrite;
    }
    const ids = (await host.db.select({ id: users.id }).from(users)).map((r) => r.id).sort();
    const expected = Array.from({ length: 20 }, (_, round) => [`kept-c${round}`, `kept-h${round}`])
      .flat()
      .sort();
    expect(ids).toEqual(expected);
  });

  it("rolls back the transaction of a client that disconnects in the middle of it", async () => {
    const { host, dataDir } = await sharedDatabase();
    const client = await connect(dataDir);
    await client.query("begin");
    await client.query(
      "insert into users (id, email, display_name, password_hash) values ('gone', 'gone@example.com', 'x', 'x')",
    );
    client.on("error", () => {});
    // Cut the socket without ending the transaction, as when a tool crashes. The host's insert
    // waits for the client's turn to be given back.
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await host.db.insert(users).values(user("after"));
    const ids = (await host.db.select({ id: users.id }).from(users)).map((r) => r.id);
    expect(ids).toEqual(["after"]);
  });

  it("disconnects a client that holds a transaction open and idle, so the host's queries go on", async () => {
    const { host, dataDir } = await sharedDatabase({ idleTurnMs: 300 });
    const client = await connect(dataDir);
    const ended = new Promise((resolve) => client.once("error", resolve));
    await client.query("begin");
    await client.query(
      "insert into users (id, email, display_name, password_hash) values ('idle', 'idle@example.com', 'x', 'x')",
    );
    // Waits for the client's turn, which ends only when the idle client is cut off.
    await host.db.insert(users).values(user("host"));
    await ended;
    const ids = (await host.db.select({ id: users.id }).from(users)).map((r) => r.id);
    expect(ids).toEqual(["host"]);
  });

  it("waits for a server that holds the directory but has not opened its socket yet", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "parley-share-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const host = await createDb({ dataDir, pgliteTemplate: template });
    cleanups.push(() => host.close());
    const pglite = host.pglite;
    if (!pglite) throw new Error("expected PGlite");
    expect(await waitForDataDirShare(dataDir, 200)).toBe(false);
    // Its first look is synchronous, so this one starts before the socket exists, as when
    // admin:create follows pnpm start at once.
    const waiting = waitForDataDirShare(dataDir);
    const share = await shareDataDir(pglite, dataDir);
    cleanups.push(() => share.close());
    expect(await waiting).toBe(true);
  });

  it("lets createDb join the process that holds the directory, and names the holder that does not share it", async () => {
    const { dataDir, share } = await sharedDatabase();
    // The host is this process; the lock names another live one, as when a server runs.
    writeFileSync(join(dataDir, "lock"), String(process.ppid));
    const joined = await createDb({ dataDir, joinRunningServer: true });
    expect(joined.kind).toBe("postgres");
    await migrate(joined);
    try {
      await joined.db.insert(users).values(user("joined"));
      expect(await joined.db.select({ id: users.id }).from(users)).toEqual([{ id: "joined" }]);
    } finally {
      await joined.close();
    }

    await share.close();
    expect(dataDirIsShared(dataDir)).toBe(false);
    await expect(createDb({ dataDir, joinRunningServer: true })).rejects.toThrow(
      `The data directory ${dataDir} is in use by another Parley process (pid ${process.ppid}), which does not share it`,
    );
    await expect(createDb({ dataDir })).rejects.toThrow(/in use by another Parley process/);
  });
});
