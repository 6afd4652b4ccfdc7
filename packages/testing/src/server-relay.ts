import { inject } from "vitest";
import { createFreshDatabase } from "./fresh-database.ts";
import { type ServerProcess, spawnServer } from "./server-process.ts";

const GENEROUS = "100000/1";

/** Server processes taking turns on one throwaway database: one that crashes, one that takes over. */
export interface ServerRelay {
  /** Spawns one more server process on the relay's database; resolves once it listens. */
  start(): Promise<ServerProcess>;
  /** Stops every process it started and drops the database. */
  close(): Promise<void>;
}

/**
 * For the exactly-once restart tests: each `start()` is a real server process (killed with
 * SIGKILL, no shutdown code runs) on the same database, rate limits raised for the many sends
 * and sign-ups of one address.
 */
export async function serverRelay(): Promise<ServerRelay> {
  const database = await createFreshDatabase(inject("databaseUrl"));
  const servers: ServerProcess[] = [];
  return {
    async start() {
      const server = await spawnServer({
        DATABASE_URL: database.url,
        AUTH_RATE_LIMIT: GENEROUS,
        SEND_RATE_LIMIT: GENEROUS,
        WRITE_RATE_LIMIT: GENEROUS,
      });
      servers.push(server);
      return server;
    },
    async close() {
      await Promise.all(servers.map((server) => server.stop()));
      await database.drop();
    },
  };
}
