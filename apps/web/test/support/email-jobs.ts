import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { findPsql } from "@parley/testing/pg-cluster";

const run = promisify(execFile);

/**
 * An email job that gave up (as the worker leaves one after its last failed attempt), written
 * straight into the outbox with psql: no test transport can make real delivery fail on cue.
 * Its id.
 */
export async function insertDeadJob(databaseUrl: string, to: string): Promise<string> {
  // Test addresses only: checked here so the literal below cannot be anything else.
  if (!/^[a-z0-9.@-]+$/.test(to)) throw new Error(`not a test address: ${to}`);
  const sql = `insert into email_outbox (template, to_address, data, status, attempts, max_attempts, last_error)
    values ('form-receipt', '${to}', '{"kind":"contact","name":"Ada"}', 'dead', 8, 8, 'Error: simulated outage')
    returning id`;
  const { stdout } = await run(findPsql(), ["-X", "-q", "-At", "-d", databaseUrl, "-c", sql]);
  return stdout.trim();
}
