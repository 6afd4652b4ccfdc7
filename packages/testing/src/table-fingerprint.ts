import { sql } from "drizzle-orm";
import type { ServerUnderTest } from "./server-under-test.ts";

/**
 * A function returning the row count and newest row version (xmin) of every table of the test
 * server's database: any insert, update or delete since the last call changes its result.
 */
export async function tableFingerprint(t: ServerUnderTest): Promise<() => Promise<string>> {
  const db = t.server.deps.db;
  const listed = (await db.execute(
    sql.raw("select tablename from pg_tables where schemaname = 'public' order by tablename"),
  )) as unknown as { rows: { tablename: string }[] };
  const query = listed.rows
    .map(
      ({ tablename }) =>
        `select '${tablename}' as t, count(*)::text as n, coalesce(max(xmin::text::bigint), 0)::text as x from "${tablename}"`,
    )
    .join(" union all ");
  // Ordered: once tables grow, PostgreSQL may run a union's branches in parallel, in any order.
  const ordered = `select * from (${query}) as counts order by t`;
  return async () => {
    const result = (await db.execute(sql.raw(ordered))) as unknown as { rows: unknown[] };
    return JSON.stringify(result.rows);
  };
}
