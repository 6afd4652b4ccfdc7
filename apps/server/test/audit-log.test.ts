import type { RouterInputs, RouterOutputs } from "@parley/client";
import { recordAudit } from "@parley/core";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, signedInAdmin, signedInUser, uniqueEmail } from "@parley/testing/accounts";
import { codeOf } from "@parley/testing/api-errors";
import { tokenInLink } from "@parley/testing/mailbox";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

type Entry = RouterOutputs["admin"]["audit"]["list"]["items"][number];
type Filter = NonNullable<RouterInputs["admin"]["audit"]["list"]>;

let t: TestServer;
let admin: Awaited<ReturnType<typeof signedInAdmin>>;
beforeAll(async () => {
  t = await startTestServer();
  admin = await signedInAdmin(t);
});
afterAll(() => t.close());

/** Every entry matching the filter, newest first, page by page. */
async function allEntries(filter: Omit<Filter, "cursor">, limit = 100): Promise<Entry[]> {
  const entries: Entry[] = [];
  let cursor: string | undefined;
  do {
    const page = await admin.api.admin.audit.list.query({ ...filter, cursor, limit });
    entries.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return entries;
}

async function resetTokenOf(email: string): Promise<string> {
  const rows = await t.server.deps.db
    .select({ data: schema.emailOutbox.data })
    .from(schema.emailOutbox)
    .where(and(eq(schema.emailOutbox.toAddress, email), eq(schema.emailOutbox.template, "password-reset")));
  const url = (rows.at(-1)?.data as { url?: string } | undefined)?.url ?? "";
  return tokenInLink(url);
}

async function sessionCount(userId: string): Promise<number> {
  const rows = await t.server.deps.db
    .select({ id: schema.sessions.id })
    .from(schema.sessions)
    .where(eq(schema.sessions.userId, userId));
  return rows.length;
}

describe("auth events", () => {
  it("login, failed login, session revoke, logout, password change and reset each leave exactly one entry with the right actor and target", async () => {
    const user = await signedInUser(t);
    const me = { id: user.user.id, displayName: user.displayName, email: user.email };

    const { token } = await t.client().auth.login.mutate({ email: user.email, password: GOOD_PASSWORD });
    const second = t.client(token);
    const wrong = "not the password at all";
    expect(await codeOf(t.client().auth.login.mutate({ email: user.email, password: wrong }))).toBe(
      "UNAUTHORIZED",
    );
    const unknownBefore = await allEntries({ action: "auth.login_failed" });
    const unknownEmail = uniqueEmail("nobody");
    expect(await codeOf(t.client().auth.login.mutate({ email: unknownEmail, password: wrong }))).toBe(
      "UNAUTHORIZED",
    );

    const sessions = await second.auth.sessions.list.query();
    const revoked = sessions.find((s) => !s.current);
    if (!revoked) throw new Error("the sign-up's session is missing");
    await second.auth.sessions.revoke.mutate({ sessionId: revoked.sessionId });
    const current = sessions.find((s) => s.current);
    await second.auth.logout.mutate();

    const third = t.client(
      (await t.client().auth.login.mutate({ email: user.email, password: GOOD_PASSWORD })).token,
    );
    const newPassword = "a second long passphrase";
    await third.auth.changePassword.mutate({ currentPassword: GOOD_PASSWORD, newPassword });
    await t.client().auth.requestPasswordReset.mutate({ email: user.email });
    await t.client().auth.resetPassword.mutate({
      token: await resetTokenOf(user.email),
      password: "a third long passphrase",
    });

    const byUser = await allEntries({ actorId: user.user.id });
    expect(byUser.map((e) => e.action)).toEqual([
      "auth.password_reset",
      "auth.password_changed",
      "auth.login",
      "auth.logout",
      "auth.session_revoked",
      "auth.login",
    ]);
    for (const entry of byUser) {
      expect(entry.actor).toEqual(me);
      expect(typeof entry.ip).toBe("string");
    }
    const [reset, changed, , logout, revoke] = byUser;
    expect(reset).toMatchObject({ targetType: "user", targetId: me.id, details: { sessionsEnded: 1 } });
    expect(changed).toMatchObject({ targetType: "user", targetId: me.id, details: { sessionsEnded: 1 } });
    expect(logout).toMatchObject({ targetType: "session", targetId: current?.sessionId });
    expect(revoke).toMatchObject({
      targetType: "session",
      targetId: revoked.sessionId,
      details: { wasCurrent: false },
    });

    // A failed login names the account (never as its actor) and never what was typed.
    const failed = await allEntries({ action: "auth.login_failed", targetId: me.id });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      actorId: null,
      actor: null,
      targetType: "user",
      details: { knownAccount: true },
    });
    const unknownAfter = await allEntries({ action: "auth.login_failed" });
    expect(unknownAfter).toHaveLength(unknownBefore.length + 1);
    expect(unknownAfter[0]).toMatchObject({ targetId: null, details: { knownAccount: false } });
    const stored = JSON.stringify(await t.server.deps.db.select().from(schema.auditLog));
    for (const secret of [wrong, GOOD_PASSWORD, newPassword, unknownEmail, "argon2"]) {
      expect(stored).not.toContain(secret);
    }
  });
});

describe("auth events under concurrency", () => {
  it("a logout and a revoke of the same session racing leave exactly one entry for it (30 rounds)", async () => {
    const user = await signedInUser(t);
    const ROUNDS = 30;
    let bothSucceeded = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { token } = await t.client().auth.login.mutate({ email: user.email, password: GOOD_PASSWORD });
      const doomed = t.client(token);
      const handle = (await doomed.auth.sessions.list.query()).find((s) => s.current)?.sessionId ?? "";
      const outcomes = await Promise.allSettled([
        doomed.auth.logout.mutate(),
        user.api.auth.sessions.revoke.mutate({ sessionId: handle }),
      ]);
      if (outcomes.every((o) => o.status === "fulfilled")) bothSucceeded++;
      const entries = await allEntries({ targetId: handle });
      expect(
        entries.map((e) => e.action),
        `round ${round}`,
      ).toHaveLength(1);
    }
    console.log(`[race] both calls succeeded in ${bothSucceeded} of ${ROUNDS} rounds`);
    // The race is real: in some rounds both calls got past their checks.
    expect(bothSucceeded).toBeGreaterThan(0);
  });
});

describe("admin actions", () => {
  it("a role change, a job retry and a submission update each leave one entry naming the admin, the target and what changed", async () => {
    const user = await signedInUser(t);
    await admin.api.admin.users.setRole.mutate({ userId: user.user.id, role: "admin" });

    const [job] = await t.server.deps.db
      .insert(schema.emailOutbox)
      .values({
        template: "form-receipt",
        toAddress: uniqueEmail("dead"),
        data: { kind: "contact", name: "Ada" },
        status: "dead",
        attempts: 8,
        maxAttempts: 8,
      })
      .returning();
    const jobId = job?.id ?? "";
    await admin.api.admin.jobs.retry.mutate({ id: jobId });

    const [submission] = await t.server.deps.db
      .insert(schema.formSubmissions)
      .values({ kind: "contact", name: "Ada", email: uniqueEmail("lead"), fields: {} })
      .returning();
    const submissionId = submission?.id ?? "";
    await admin.api.forms.submissions.update.mutate({
      id: submissionId,
      status: "contacted",
      note: "Called",
    });

    const actor = { id: admin.user.id, displayName: admin.displayName, email: admin.email };
    expect(await allEntries({ targetId: user.user.id })).toEqual([
      expect.objectContaining({
        action: "admin.role_changed",
        actor,
        targetType: "user",
        details: { from: "user", to: "admin" },
      }),
    ]);
    expect(await allEntries({ targetId: jobId })).toEqual([
      expect.objectContaining({
        action: "admin.job_retried",
        actor,
        targetType: "job",
        details: { template: "form-receipt", from: "dead", to: "pending", maxAttempts: 16 },
      }),
    ]);
    const [updated, ...more] = await allEntries({ targetId: submissionId });
    expect(more).toEqual([]);
    expect(updated).toMatchObject({
      action: "admin.submission_updated",
      actor,
      targetType: "submission",
      details: { status: { from: "new", to: "contacted" }, noteAdded: true },
    });
    // The note's text is the submission's, not the log's.
    expect(JSON.stringify(updated)).not.toContain("Called");
  });

  it("an action whose transaction fails at commit leaves neither its change nor its entry", async () => {
    const db = t.server.deps.db;
    // A deferred constraint trigger fails the commit after the action and its entry were written:
    // a real database fault, no mock. It refuses only the targets listed in audit_test_doomed.
    await db.execute(sql`create table audit_test_doomed (target_id text primary key)`);
    await db.execute(sql`
      create function audit_test_refuse() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from audit_test_doomed where target_id in (new.target_id, new.actor_id)) then
          raise exception 'refused at commit for the test';
        end if;
        return null;
      end $$`);
    await db.execute(sql`
      create constraint trigger audit_test_refuse after insert on audit_log
      deferrable initially deferred for each row execute function audit_test_refuse()`);
    try {
      const user = await signedInUser(t);
      const [job] = await db
        .insert(schema.emailOutbox)
        .values({ template: "form-receipt", toAddress: uniqueEmail("dead"), data: {}, status: "dead" })
        .returning();
      const [submission] = await db
        .insert(schema.formSubmissions)
        .values({ kind: "contact", name: "Ada", email: uniqueEmail("lead"), fields: {} })
        .returning();
      const jobId = job?.id ?? "";
      const submissionId = submission?.id ?? "";
      for (const id of [user.user.id, jobId, submissionId]) {
        await db.execute(sql`insert into audit_test_doomed values (${id}) on conflict do nothing`);
      }
      const sessionsBefore = await sessionCount(user.user.id);

      const calls = {
        setRole: () => admin.api.admin.users.setRole.mutate({ userId: user.user.id, role: "admin" }),
        retry: () => admin.api.admin.jobs.retry.mutate({ id: jobId }),
        update: () => admin.api.forms.submissions.update.mutate({ id: submissionId, status: "closed" }),
        login: () => t.client().auth.login.mutate({ email: user.email, password: GOOD_PASSWORD }),
        changePassword: () =>
          user.api.auth.changePassword.mutate({
            currentPassword: GOOD_PASSWORD,
            newPassword: "never set at all",
          }),
        logout: () => user.api.auth.logout.mutate(),
      };
      for (const [name, call] of Object.entries(calls)) {
        expect(await codeOf(call()), name).toBe("INTERNAL_SERVER_ERROR");
      }

      await db.execute(sql`delete from audit_test_doomed`);
      for (const id of [user.user.id, jobId, submissionId]) {
        expect(await allEntries({ targetId: id }), id).toEqual([]);
      }
      expect(await allEntries({ actorId: user.user.id })).toEqual([]);
      expect(await user.api.auth.me.query()).toMatchObject({ id: user.user.id, role: "user" });
      expect(await sessionCount(user.user.id)).toBe(sessionsBefore);
      const [jobAfter] = await db.select().from(schema.emailOutbox).where(eq(schema.emailOutbox.id, jobId));
      expect(jobAfter?.status).toBe("dead");
      const [submissionAfter] = await db
        .select()
        .from(schema.formSubmissions)
        .where(eq(schema.formSubmissions.id, submissionId));
      expect(submissionAfter?.status).toBe("new");
      // The old password still signs in: the change never committed.
      expect(
        (await t.client().auth.login.mutate({ email: user.email, password: GOOD_PASSWORD })).token,
      ).toBeDefined();
    } finally {
      await db.execute(sql`drop trigger audit_test_refuse on audit_log`);
      await db.execute(sql`drop function audit_test_refuse()`);
      await db.execute(sql`drop table audit_test_doomed`);
    }
  });
});

describe("admin.audit.list", () => {
  it("answers UNAUTHORIZED anonymously and FORBIDDEN to a signed-in user", async () => {
    const user = await signedInUser(t);
    expect(await codeOf(t.client().admin.audit.list.query())).toBe("UNAUTHORIZED");
    expect(await codeOf(user.api.admin.audit.list.query())).toBe("FORBIDDEN");
    expect(await codeOf(user.api.admin.audit.list.query({ actorId: user.user.id }))).toBe("FORBIDDEN");
  });

  it("pages newest first on (at, id): with equal timestamps no entry twice and none skipped; filters narrow", async () => {
    const db = t.server.deps.db;
    const actorId = admin.user.id;
    const roomId = "11111111-1111-4111-8111-111111111111";
    const base = Date.parse("2020-01-01T00:00:00.000Z");
    // 30 entries over three instants (ten share each), one tagged with a room and another target.
    for (let i = 0; i < 30; i++) {
      await recordAudit(db, {
        action: i % 2 === 0 ? "admin.job_retried" : "admin.role_changed",
        actorId,
        targetType: "job",
        targetId: i === 7 ? "target-seven" : `paging-${i}`,
        ...(i === 12 ? { roomId } : {}),
        details: { i },
        at: new Date(base + Math.floor(i / 10) * 1000),
      });
    }
    const window = { actorId, from: "2020-01-01T00:00:00Z", to: "2020-01-01T00:01:00Z" };
    const all = await allEntries(window);
    expect(all).toHaveLength(30);
    const order = all.map((e) => [e.at.getTime(), Number(e.id)] as const);
    const sorted = [...order].sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    expect(order).toEqual(sorted);
    for (const limit of [1, 3, 7, 10, 29]) {
      const paged = await allEntries(window, limit);
      expect(
        paged.map((e) => e.id),
        `limit ${limit}`,
      ).toEqual(all.map((e) => e.id));
    }

    expect((await allEntries({ ...window, action: "admin.job_retried" })).map((e) => e.details.i)).toEqual([
      28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0,
    ]);
    expect((await allEntries({ ...window, targetId: "target-seven" })).map((e) => e.details.i)).toEqual([7]);
    expect((await allEntries({ ...window, roomId })).map((e) => e.details.i)).toEqual([12]);
    const middle = await allEntries({ actorId, from: "2020-01-01T00:00:01Z", to: "2020-01-01T00:00:02Z" });
    expect(middle.map((e) => e.details.i).sort((a, b) => Number(a) - Number(b))).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);

    expect(await codeOf(admin.api.admin.audit.list.query({ cursor: "bm90LWEtY3Vyc29y" }))).toBe(
      "BAD_REQUEST",
    );
    expect(
      await codeOf(
        admin.api.admin.audit.list.query({ from: "2020-01-02T00:00:00Z", to: "2020-01-01T00:00:00Z" }),
      ),
    ).toBe("BAD_REQUEST");
    expect(await codeOf(admin.api.admin.audit.list.query({ action: "auth.nothing" as never }))).toBe(
      "BAD_REQUEST",
    );
  });
});

describe("retention", () => {
  it("purges entries older than the setting by the server's clock, in batches, and keeps everything at 0", async () => {
    let now = new Date("2030-06-01T00:00:00Z");
    const days = (n: number) => new Date(now.getTime() - n * 24 * 60 * 60 * 1000);
    await using server = await startTestServer({
      clock: () => now,
      auditRetention: { days: 30, intervalMs: 86_400_000 },
    });
    const db = server.server.deps.db;
    const entry = (when: Date, targetId: string) => ({ action: "auth.login", targetId, at: when });
    await db
      .insert(schema.auditLog)
      .values([
        ...Array.from({ length: 2_500 }, (_, i) => entry(days(40), `old-${i}`)),
        entry(days(29), "recent"),
        entry(now, "now"),
      ]);
    const remaining = async () =>
      (await db.select({ targetId: schema.auditLog.targetId }).from(schema.auditLog)).map((r) => r.targetId);

    // More than one batch (1,000 rows each) to remove: every old entry goes, nothing newer.
    expect(await server.server.auditRetention.purge()).toBe(2_500);
    expect((await remaining()).sort()).toEqual(["now", "recent"]);
    now = new Date(now.getTime() + 2 * 24 * 60 * 60 * 1000);
    expect(await server.server.auditRetention.purge()).toBe(1);
    expect(await remaining()).toEqual(["now"]);

    await using forever = await startTestServer({
      clock: () => now,
      auditRetention: { days: 0 },
    });
    await recordAudit(forever.server.deps.db, {
      action: "auth.login",
      actorId: null,
      targetId: "ancient",
      at: new Date("2000-01-01T00:00:00Z"),
    });
    expect(await forever.server.auditRetention.purge()).toBe(0);
    expect(await forever.server.deps.db.select().from(schema.auditLog)).toHaveLength(1);
  });

  it("the server purges on its own every interval", async () => {
    const now = new Date("2030-06-01T00:00:00Z");
    await using server = await startTestServer({
      clock: () => now,
      auditRetention: { days: 1, intervalMs: 1_000 },
    });
    const db = server.server.deps.db;
    await recordAudit(db, {
      action: "auth.login",
      actorId: null,
      targetId: "stale",
      at: new Date("2030-05-01T00:00:00Z"),
    });
    await expect
      .poll(async () => (await db.select().from(schema.auditLog)).length, { timeout: 10_000 })
      .toBe(0);
  });
});
