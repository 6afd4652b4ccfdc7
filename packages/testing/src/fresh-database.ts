import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { findPsql } from "./pg-cluster.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The PostgreSQL every test file shares; each makes a database of its own with createFreshDatabase. */
    databaseUrl: string;
  }
}

const run = promisify(execFile);

export interface FreshDatabase {
  /** baseUrl with its database replaced by the new one. */
  url: string;
  /** Terminates the database's connections and drops it. Idempotent. */
  drop(): Promise<void>;
}

// `pg` is a dependency of @parley/db only and does not resolve from apps/server, so this goes
// through psql, which comes with the PostgreSQL install the tests need anyway.
async function psql(url: string, sql: string): Promise<void> {
  try {
    await run(findPsql(), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql], {
      timeout: 60_000,
      env: { ...process.env, PGCONNECT_TIMEOUT: "10" },
    });
  } catch (error) {
    const e = error as { message?: string; stderr?: string };
    throw new Error(`psql failed on ${redact(url)}: ${sql}\n${e.stderr?.trim() || e.message}`);
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

/**
 * A new, empty database named parley_test_<random> on the server of baseUrl, so that each test
 * file works in isolation on one shared PostgreSQL.
 */
export async function createFreshDatabase(baseUrl: string): Promise<FreshDatabase> {
  const name = `parley_test_${randomBytes(6).toString("hex")}`;
  await psql(baseUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    drop() {
      // WITH (FORCE) (PostgreSQL 13+) terminates the database's connections and drops it in one step,
      // so a pool reconnecting in between cannot make the drop fail.
      dropped ??= psql(baseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return dropped;
    },
  };
}
