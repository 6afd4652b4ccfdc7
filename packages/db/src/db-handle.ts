import type { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type pg from "pg";
import type * as schema from "./schema.ts";

// The types of an open database, apart from createDb: migrate() and the template builder take a
// handle without importing the module that opens one.

export type Schema = typeof schema;
/** The Drizzle API both drivers share; the rest of the code sees only this. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** A database or an open transaction: services accept either. */
export type Queryable = Database | Transaction;

export interface PoolWarmup {
  /** Connections open and warmed. */
  connections: number;
  /** What could not be warmed (statement names, "to_tsvector"), on any connection. */
  failed: string[];
}

export interface DbHandle {
  db: Database;
  kind: "postgres" | "pglite";
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * PostgreSQL: opens the pool's connections and loads what the hot statements need on each
   * (pool-warmup.ts), for a server once it listens. Undefined for PGlite.
   */
  warm?(): Promise<PoolWarmup>;
  /** The pg Pool, when kind is "postgres" (migrations take an advisory lock on one client). */
  pool?: pg.Pool;
  pglite?: PGlite;
  /** PGlite's directory (absolute), when this handle opened it or reached it through its server. */
  dataDir?: string;
}
