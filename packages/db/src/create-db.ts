import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { DataDirLockedError, lockDataDir } from "./data-dir-lock.ts";
import { DATA_DIR_SOCKET_PORT, waitForDataDirShare } from "./data-dir-socket.ts";
import type { Database, DbHandle } from "./db-handle.ts";
import { copyPgliteTemplate } from "./pglite-template.ts";
import { warmPool } from "./pool-warmup.ts";
import * as schema from "./schema.ts";

export type { Database, DbHandle, PoolWarmup, Queryable, Schema, Transaction } from "./db-handle.ts";

export interface CreateDbOptions {
  /** PostgreSQL connection string; without it, embedded PGlite. */
  url?: string;
  /** PGlite's directory: required without `url` or `memory` (the server's default is DATA_DIR's). */
  dataDir?: string;
  /** PGlite in memory (tests). */
  memory?: boolean;
  /**
   * When another process holds `dataDir` and shares it (a running server, see shareDataDir):
   * connect to that process over the directory's socket instead of failing. For the tools that
   * run beside a server (`pnpm worker`, `admin:create`, `db:migrate`); a second server still fails.
   */
  joinRunningServer?: boolean;
  /**
   * A PGlite template (see createPgliteTemplate): a data directory already through initdb and the
   * migrations. A data directory that has no database yet starts as a copy of it, which takes a
   * fraction of a second where PGlite's initdb takes seconds. Ignored when missing or made by
   * another PGlite version.
   */
  pgliteTemplate?: string;
  poolSize?: number;
  /** Called with errors of idle pool clients (a PostgreSQL restart sends 57P01 to each). */
  onPoolError?: (error: Error) => void;
}

// Each driver is imported only when used: PostgreSQL deployments never load PGlite's JavaScript,
// and the embedded mode never loads pg.
export async function createDb(options: CreateDbOptions = {}): Promise<DbHandle> {
  if (options.url) return createPostgres(options.url, options);
  return createPglite(options);
}

/** pg's settings for a server's data directory socket: pg reads a host that is a path as a socket's directory. */
type SocketConnection = { host: string; port: number; user: string; database: string };

async function createPostgres(
  connection: string | SocketConnection,
  options: CreateDbOptions,
): Promise<DbHandle> {
  const [{ default: pg }, { drizzle: drizzlePg }] = await Promise.all([
    import("pg"),
    import("drizzle-orm/node-postgres"),
  ]);
  const size = options.poolSize ?? 10;
  const pool = new pg.Pool({
    ...(typeof connection === "string" ? { connectionString: connection } : connection),
    max: size,
    // Open connections are kept, not closed after idling: a new one is a cold backend, and the
    // first hot statement on it costs tens of milliseconds (pool-warmup.ts).
    min: size,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener, an idle client's error (e.g. PostgreSQL restarting) is an
  // unhandled 'error' event and kills the process. The pool drops that client itself.
  pool.on("error", (error) => {
    // pg-pool hangs the whole client (statements, buffers) on the error: not for the log.
    Reflect.deleteProperty(error, "client");
    options.onPoolError?.(error);
  });
  // A checked-out client has no pool listener: one whose connection drops mid-transaction
  // (PostgreSQL stopped or crashed between two statements) emits an 'error' nobody handles,
  // which kills the process. The statement in flight, or the next one, fails with that error
  // anyway (a 503), and the pool discards the client when it is released: nothing else to do.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  const db = drizzlePg(pool, { schema }) as unknown as Database;
  return {
    db,
    kind: "postgres",
    pool,
    warm: () => warmPool(pool, size),
    async ping() {
      await pool.query("select 1");
    },
    async close() {
      await pool.end();
    },
  };
}

async function createPglite(options: CreateDbOptions): Promise<DbHandle> {
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("drizzle-orm/pglite"),
  ]);
  let release = () => {};
  let client: PGlite;
  let dataDir: string | undefined;
  if (options.memory) {
    client = new PGlite();
  } else {
    if (!options.dataDir) throw new Error("createDb: give a PostgreSQL url, a PGlite dataDir or memory");
    dataDir = resolve(options.dataDir);
    try {
      release = lockDataDir(dataDir);
    } catch (error) {
      if (!(error instanceof DataDirLockedError) || !options.joinRunningServer) throw error;
      if (!(await waitForDataDirShare(dataDir))) {
        throw new DataDirLockedError(
          dataDir,
          error.pid,
          "does not share it (a server started with `pnpm start` does)",
        );
      }
      const socket = { host: dataDir, port: DATA_DIR_SOCKET_PORT, user: "postgres", database: "postgres" };
      return { ...(await createPostgres(socket, { ...options, poolSize: options.poolSize ?? 4 })), dataDir };
    }
    try {
      const pgdata = join(dataDir, "pgdata");
      // Under the lock: no other process is using pgdata while it is filled from the template.
      if (options.pgliteTemplate) copyPgliteTemplate(options.pgliteTemplate, pgdata);
      // PGlite does not create parent directories: ENOENT at start otherwise.
      mkdirSync(pgdata, { recursive: true });
      client = new PGlite(pgdata);
    } catch (error) {
      release();
      throw error;
    }
  }
  try {
    await client.waitReady;
  } catch (error) {
    release();
    throw error;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  let closed = false;
  return {
    db,
    kind: "pglite",
    pglite: client,
    dataDir,
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      release();
    },
  };
}
