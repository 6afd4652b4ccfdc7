import { createDb, type DbHandle, migrate } from "@parley/db";
import {
  ATTACHMENT_STATUSES,
  FORM_KINDS,
  JOB_STATUSES,
  OUTBOX_KINDS,
  REPORT_STATUSES,
  RESTRICTION_KINDS,
  ROOM_KINDS,
  ROOM_ROLES,
  SUBMISSION_STATUSES,
  USER_ROLES,
} from "@parley/db/enums";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";

// Every closed list the code checks against (zod enums, menus, labels) comes from @parley/db/enums;
// this pins the database's enums, as the migrations leave them, to the same lists.
const LISTS = {
  user_role: USER_ROLES,
  room_role: ROOM_ROLES,
  submission_kind: FORM_KINDS,
  submission_status: SUBMISSION_STATUSES,
  job_status: JOB_STATUSES,
  outbox_kind: OUTBOX_KINDS,
  attachment_status: ATTACHMENT_STATUSES,
  room_kind: ROOM_KINDS,
  restriction_kind: RESTRICTION_KINDS,
  report_status: REPORT_STATUSES,
};

async function enumsOf(handle: DbHandle): Promise<Record<string, string[]>> {
  await migrate(handle);
  const result = (await handle.db.execute(sql`
    select t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
    from pg_enum e join pg_type t on t.oid = e.enumtypid
    join pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'public'
    group by t.typname`)) as unknown as { rows: { name: string; labels: string[] }[] };
  return Object.fromEntries(result.rows.map((row) => [row.name, row.labels]));
}

describe("the database's enums are the lists in @parley/db/enums", () => {
  it("on PostgreSQL after the migrations", async () => {
    const database = await createFreshDatabase(inject("databaseUrl"));
    const handle = await createDb({ url: database.url });
    try {
      expect(await enumsOf(handle)).toEqual(LISTS);
    } finally {
      await handle.close();
      await database.drop();
    }
  });

  it("on PGlite after the migrations", async () => {
    const handle = await createDb({ memory: true });
    try {
      expect(await enumsOf(handle)).toEqual(LISTS);
    } finally {
      await handle.close();
    }
  });
});
