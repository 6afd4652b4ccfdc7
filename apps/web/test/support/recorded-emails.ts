import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { findPsql } from "@parley/testing/pg-cluster";

const run = promisify(execFile);

export interface RecordedEmail {
  subject: string;
  text: string;
}

/**
 * The emails the server's recording transport stored for one address (no SMTP in the tests),
 * oldest first. Read with psql, which the test PostgreSQL brings along.
 */
export async function recordedEmails(databaseUrl: string, to: string): Promise<RecordedEmail[]> {
  // Test addresses only: checked here so the literal below cannot be anything else.
  if (!/^[a-z0-9.@-]+$/.test(to)) throw new Error(`not a test address: ${to}`);
  const sql = `select coalesce(json_agg(json_build_object('subject', subject, 'text', text) order by created_at), '[]')
    from recorded_emails where to_address = '${to}'`;
  const { stdout } = await run(findPsql(), ["-X", "-q", "-At", "-d", databaseUrl, "-c", sql]);
  return JSON.parse(stdout) as RecordedEmail[];
}

/** The first link to this site's `path` in the text. */
export function linkIn(text: string, baseUrl: string, path: string): string {
  const match = new RegExp(`${baseUrl.replace(/[.:/]/g, "\\$&")}${path}\\?token=[A-Za-z0-9_-]+`).exec(text);
  if (!match) throw new Error(`no ${path} link in:\n${text}`);
  return match[0];
}
