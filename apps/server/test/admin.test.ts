import { appRouter, procedureEntries } from "@parley/api";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, signedInAdmin, signedInUser, uniqueEmail } from "@parley/testing/accounts";
import { runAdminCreate } from "@parley/testing/admin-create-process";
import { codeOf, fieldErrorsOf } from "@parley/testing/api-errors";
import { deliverQueuedEmail, recordedEmailsTo } from "@parley/testing/mailbox";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000";

/** A well-formed input for every admin procedure: what a caller without the role must not get through with. */
const adminCalls: Record<string, Record<string, unknown> | undefined> = {
  "admin.audit.list": { action: "auth.login" },
  "admin.blocklist.add": { word: "zzadminonly" },
  "admin.blocklist.list": undefined,
  "admin.blocklist.remove": { word: "zzadminonly" },
  "admin.jobs.list": { status: "dead" },
  "admin.jobs.retry": { id: UNKNOWN_UUID },
  "admin.users.list": { search: "a" },
  "admin.users.setRole": { userId: "SELF", role: "admin" },
  "admin.webhooks.create": { url: "http://127.0.0.1:9/hook", eventTypes: ["message.created"] },
  "admin.webhooks.delete": { id: UNKNOWN_UUID },
  "admin.webhooks.list": undefined,
  "admin.webhooks.test": { id: UNKNOWN_UUID },
  "admin.webhooks.update": { id: UNKNOWN_UUID, active: false },
  "forms.submissions.get": { id: UNKNOWN_UUID },
  "forms.submissions.list": { kind: "contact" },
  "forms.submissions.update": { id: UNKNOWN_UUID, status: "closed" },
};

function adminProcedures(): { path: string; type: string }[] {
  return procedureEntries(appRouter)
    .filter((procedure) => procedure.meta.access === "admin")
    .map(({ path, type }) => ({ path, type }));
}

/** Calls a procedure over plain HTTP, as any client would, and returns the error code (or null). */
async function rawCall(path: string, type: string, input: unknown, token?: string): Promise<string | null> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = JSON.stringify({ json: input });
  const response =
    type === "query"
      ? await fetch(`${t.url}/trpc/${path}?input=${encodeURIComponent(body)}`, { headers })
      : await fetch(`${t.url}/trpc/${path}`, { method: "POST", headers, body });
  const reply = (await response.json()) as { error?: { json?: { data?: { code?: string } } } };
  return reply.error?.json?.data?.code ?? null;
}

describe("admin access", () => {
  it("every admin procedure answers UNAUTHORIZED anonymously and FORBIDDEN to a signed-in user, changing nothing", async () => {
    const procedures = adminProcedures();
    expect(procedures.map((p) => p.path).sort()).toEqual(Object.keys(adminCalls).sort());
    const user = await signedInUser(t);
    const verified = await signedInUser(t);
    await t.server.deps.db
      .update(schema.users)
      .set({ emailVerified: true })
      .where(eq(schema.users.id, verified.user.id));
    for (const { path, type } of procedures) {
      const sample = adminCalls[path];
      const input = sample?.userId === "SELF" ? { ...sample, userId: user.user.id } : sample;
      expect(await rawCall(path, type, input), `${path} anonymous`).toBe("UNAUTHORIZED");
      expect(await rawCall(path, type, input, user.token), `${path} as a user`).toBe("FORBIDDEN");
      expect(await rawCall(path, type, input, verified.token), `${path} as a verified user`).toBe(
        "FORBIDDEN",
      );
      // Refused before the input is even looked at.
      expect(await rawCall(path, type, { junk: "\u0000" }, user.token), `${path} junk`).toBe("FORBIDDEN");
    }
    expect(await user.api.auth.me.query()).toMatchObject({ role: "user" });
  });

  it("an admin demoted to user loses access at once; a user promoted gains it", async () => {
    const admin = await signedInAdmin(t);
    const other = await signedInUser(t);
    expect(await codeOf(other.api.admin.users.list.query())).toBe("FORBIDDEN");
    expect(
      await admin.api.admin.users.setRole.mutate({ userId: other.user.id, role: "admin" }),
    ).toMatchObject({
      id: other.user.id,
      role: "admin",
    });
    expect((await other.api.admin.users.list.query()).items.length).toBeGreaterThan(0);
    await other.api.admin.users.setRole.mutate({ userId: admin.user.id, role: "user" });
    expect(await codeOf(admin.api.admin.users.list.query())).toBe("FORBIDDEN");
  });
});

describe("admin.users", () => {
  it("lists users newest first, searches email and display name literally, and pages with a cursor", async () => {
    const admin = await signedInAdmin(t);
    const tag = `Zed${Date.now()}`;
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const email = uniqueEmail(`${tag.toLowerCase()}-${i}`);
      await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: `${tag} ${i}` });
      made.push(email);
    }
    const byName = await admin.api.admin.users.list.query({ search: ` ${tag} ` });
    expect(byName.items.map((u) => u.email)).toEqual([...made].reverse());
    expect(byName.items[0]).not.toHaveProperty("passwordHash");
    const byEmail = await admin.api.admin.users.list.query({ search: made[1]?.toUpperCase() });
    expect(byEmail.items.map((u) => u.email)).toEqual([made[1]]);
    // LIKE wildcards are searched for, not obeyed.
    expect((await admin.api.admin.users.list.query({ search: "%" })).items).toEqual([]);
    expect((await admin.api.admin.users.list.query({ search: "_" })).items).toEqual([]);

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.api.admin.users.list.query({ search: tag, limit: 2, cursor });
      pages.push(page.items.map((u) => u.email));
      cursor = page.nextCursor ?? undefined;
    } while (cursor && pages.length < 10);
    expect(pages).toEqual([[made[2], made[1]], [made[0]]]);
  });

  it("refuses an unknown user with NOT_FOUND, bad input with field errors, and demoting the last admin with CONFLICT", async () => {
    const admin = await signedInAdmin(t);
    const setRole = admin.api.admin.users.setRole;
    expect(await codeOf(setRole.mutate({ userId: "no-such-user", role: "admin" }))).toBe("NOT_FOUND");
    expect(
      (await fieldErrorsOf(setRole.mutate({ userId: admin.user.id, role: "root" as never }))).role,
    ).toBeDefined();
    expect((await fieldErrorsOf(setRole.mutate({ userId: "", role: "user" }))).userId).toBeDefined();
    expect((await fieldErrorsOf(admin.api.admin.users.list.query({ cursor: "%%" }))).cursor).toBeDefined();
    expect(
      (await fieldErrorsOf(admin.api.admin.users.list.query({ search: "a\u0000" }))).search,
    ).toBeDefined();

    // Demote every other admin, then try to demote the last one.
    const admins = await t.server.deps.db.select().from(schema.users).where(eq(schema.users.role, "admin"));
    for (const other of admins) {
      if (other.id !== admin.user.id) await setRole.mutate({ userId: other.id, role: "user" });
    }
    expect(await codeOf(setRole.mutate({ userId: admin.user.id, role: "user" }))).toBe("CONFLICT");
    expect(await admin.api.auth.me.query()).toMatchObject({ role: "admin" });
    // Setting the role an account already has is not a demotion.
    expect(await setRole.mutate({ userId: admin.user.id, role: "admin" })).toMatchObject({ role: "admin" });
  });
});

describe("admin.jobs", () => {
  it("lists jobs by status without their content, and retries a dead one, which is then sent once", async () => {
    const admin = await signedInAdmin(t);
    const to = uniqueEmail("dead");
    const [dead] = await t.server.deps.db
      .insert(schema.emailOutbox)
      .values({
        template: "form-receipt",
        toAddress: to,
        data: { kind: "contact", name: "Ada" },
        status: "dead",
        attempts: 8,
        maxAttempts: 8,
        lastError: "Error: simulated outage",
      })
      .returning();
    const id = dead?.id ?? "";
    const listed = await admin.api.admin.jobs.list.query({ status: "dead" });
    const item = listed.items.find((job) => job.id === id);
    expect(item).toMatchObject({
      status: "dead",
      attempts: 8,
      toAddress: to,
      lastError: "Error: simulated outage",
    });
    expect(item).not.toHaveProperty("data");
    expect(listed.items.every((job) => job.status === "dead")).toBe(true);

    const retried = await admin.api.admin.jobs.retry.mutate({ id });
    expect(retried).toMatchObject({ id, status: "pending", attempts: 8, maxAttempts: 16 });
    await deliverQueuedEmail(t);
    const [after] = await t.server.deps.db
      .select()
      .from(schema.emailOutbox)
      .where(eq(schema.emailOutbox.id, id));
    expect(after).toMatchObject({ status: "sent", attempts: 9 });
    expect(await recordedEmailsTo(t, to)).toHaveLength(1);
    const sentList = await admin.api.admin.jobs.list.query({ status: "sent" });
    expect(sentList.items.find((job) => job.id === id)).toMatchObject({ recordedAttempts: 1 });

    expect(await codeOf(admin.api.admin.jobs.retry.mutate({ id }))).toBe("CONFLICT");
    expect(await recordedEmailsTo(t, to)).toHaveLength(1);
  });

  it("refuses an unknown job with NOT_FOUND and malformed input with field errors", async () => {
    const admin = await signedInAdmin(t);
    expect(await codeOf(admin.api.admin.jobs.retry.mutate({ id: UNKNOWN_UUID }))).toBe("NOT_FOUND");
    expect((await fieldErrorsOf(admin.api.admin.jobs.retry.mutate({ id: "42" }))).id).toBeDefined();
    expect(
      (await fieldErrorsOf(admin.api.admin.jobs.list.query({ status: "lost" as never }))).status,
    ).toBeDefined();
    expect(
      (await fieldErrorsOf(admin.api.admin.jobs.list.query({ cursor: "eyJ4IjoxfQ" }))).cursor,
    ).toBeDefined();
    const page = await admin.api.admin.jobs.list.query({ limit: 1 });
    expect(page.items.length).toBeLessThanOrEqual(1);
  });
});

describe("admin:create", () => {
  const adminCreate = (args: string[], stdin: string) =>
    runAdminCreate(args, stdin, { DATABASE_URL: t.databaseUrl });

  it("creates the first admin from the command line (password on stdin), then promotes an existing account", async () => {
    const email = uniqueEmail("operator");
    const created = await adminCreate(
      ["--email", email.toUpperCase(), "--name", "Operator"],
      `${GOOD_PASSWORD}\n`,
    );
    expect(created.out).toContain(`created admin ${email}`);
    expect(created.code).toBe(0);
    const { token } = await t.client().auth.login.mutate({ email, password: GOOD_PASSWORD });
    expect(await t.client(token).auth.me.query()).toMatchObject({ role: "admin", emailVerified: true });
    expect(await t.client(token).admin.users.list.query({ search: email })).toMatchObject({
      items: [{ email, role: "admin" }],
    });

    const member = await signedInUser(t);
    const promoted = await adminCreate(["--email", member.email], "");
    expect(promoted.code).toBe(0);
    expect(promoted.out).toContain(`${member.email} is now an admin`);
    expect(await member.api.auth.me.query()).toMatchObject({ role: "admin" });
  });
});
