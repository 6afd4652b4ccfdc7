import { schema } from "@parley/db";
import { signedInAdmin, signedInUser, uniqueEmail } from "@parley/testing/accounts";
import { codeOf, fieldErrorsOf } from "@parley/testing/api-errors";
import { deliverQueuedEmail, recordedEmailsTo } from "@parley/testing/mailbox";
import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const DAY_MS = 24 * 60 * 60 * 1000;

function goodContact() {
  return {
    name: "Ada Lovelace",
    email: uniqueEmail("contact"),
    company: "Analytical Engines",
    subject: "Pricing",
    message: "We would like to know more about Parley for our team.",
    website: "",
  };
}

function goodDemo() {
  return {
    name: "Grace Hopper",
    workEmail: uniqueEmail("demo").replace("@example.com", "@navy.example"),
    company: "Harvard Mark I",
    companySize: "201-1000" as const,
    role: "Head of support",
    useCase: "Live chat between our support team and customers.",
    preferredDate: new Date(Date.now() + 7 * DAY_MS).toISOString(),
    timezone: "America/New_York",
    phone: "+1 (212) 555-0100",
    website: "",
  };
}

async function storedCounts() {
  const db = t.server.deps.db;
  const [submissions] = await db.select({ n: count() }).from(schema.formSubmissions);
  const [outbox] = await db.select({ n: count() }).from(schema.emailOutbox);
  return { submissions: submissions?.n, outbox: outbox?.n };
}

async function submissionsFrom(email: string) {
  return t.server.deps.db
    .select()
    .from(schema.formSubmissions)
    .where(eq(schema.formSubmissions.email, email));
}

async function queuedFor(to: string) {
  return t.server.deps.db.select().from(schema.emailOutbox).where(eq(schema.emailOutbox.toAddress, to));
}

describe("forms.contact.submit", () => {
  it("stores a good submission, normalised, with the team notification and the sender's receipt queued", async () => {
    const input = goodContact();
    const result = await t.client().forms.contact.submit.mutate({
      ...input,
      name: "  Ada \t  Lovelace ",
      email: `  ${input.email.toUpperCase()} `,
      company: "",
      subject: "  Pricing    question ",
      message: "  Hello,\n\nwe would like a quote.  ",
    });
    expect(result).toEqual({ ok: true });
    const [row, ...others] = await submissionsFrom(input.email);
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      kind: "contact",
      status: "new",
      name: "Ada Lovelace",
      email: input.email,
      company: null,
      fields: { subject: "Pricing question", message: "Hello,\n\nwe would like a quote." },
      notes: [],
    });
    expect(row?.ip).toMatch(/127\.0\.0\.1/);
    const team = t.server.deps.teamAddress;
    const [receipt] = await queuedFor(input.email);
    expect(receipt).toMatchObject({
      template: "form-receipt",
      status: expect.stringMatching(/pending|sending|sent/),
    });
    const notifications = (await queuedFor(team)).filter(
      (job) => (job.data as { submissionId?: string }).submissionId === row?.id,
    );
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.template).toBe("form-notification");

    await deliverQueuedEmail(t);
    const [delivered] = await recordedEmailsTo(t, input.email);
    expect(delivered?.subject).toBe("Parley: we received your message");
    expect(delivered?.text).toContain("Hi Ada Lovelace,");
    // The receipt goes to whatever address was typed in: it repeats nothing else of the message.
    expect(delivered?.text).not.toContain("quote");
  });

  it("escapes the sender's text in the HTML of the team's notification, and keeps it verbatim in the text body", async () => {
    const input = {
      ...goodContact(),
      name: `Eve <img src=x onerror="alert(1)">`,
      subject: "Hi & <b>bold</b>",
      message: "<script>alert('x')</script>\nsecond line",
    };
    await t.client().forms.contact.submit.mutate(input);
    await deliverQueuedEmail(t);
    const [row] = await submissionsFrom(input.email);
    const notification = (await recordedEmailsTo(t, t.server.deps.teamAddress)).find((email) =>
      email.text.includes(`/admin/submissions/${row?.id}`),
    );
    expect(notification).toBeDefined();
    expect(notification?.subject).toBe(`New contact from ${input.name} (Analytical Engines)`);
    expect(notification?.html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;<br>second line");
    expect(notification?.html).toContain("Eve &lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(notification?.html).toContain("Hi &amp; &lt;b&gt;bold&lt;/b&gt;");
    expect(notification?.html).not.toContain("<script>");
    expect(notification?.html).not.toContain("<img");
    expect(notification?.text).toContain("<script>alert('x')</script>\nsecond line");
  });

  it("refuses each bad field with a field error on that field and stores or queues nothing", async () => {
    const before = await storedCounts();
    const cases: [field: string, value: unknown][] = [
      ["name", ""],
      ["name", "   "],
      ["name", "x".repeat(101)],
      ["name", "Ada\u0000Lovelace"],
      ["name", 42],
      ["email", "not-an-email"],
      ["email", "ada@"],
      ["email", `${"a".repeat(250)}@example.com`],
      ["email", "ada\u0007@example.com"],
      ["company", "x".repeat(121)],
      ["company", "Acme\u001b[31m"],
      ["subject", ""],
      ["subject", "s".repeat(151)],
      ["message", "too short"],
      ["message", "m".repeat(5001)],
      ["message", "a perfectly long message\u0000"],
      ["website", "w".repeat(2001)],
    ];
    for (const [field, value] of cases) {
      const errors = await fieldErrorsOf(
        t.client().forms.contact.submit.mutate({ ...goodContact(), [field]: value } as never),
      );
      expect(errors[field], `${field} = ${JSON.stringify(value).slice(0, 40)}`).toBeDefined();
      expect(Object.keys(errors), field).toEqual([field]);
    }
    const missing = await fieldErrorsOf(t.client().forms.contact.submit.mutate({} as never));
    expect(Object.keys(missing).sort()).toEqual(["email", "message", "name", "subject"]);
    expect(await storedCounts()).toEqual(before);
  });

  it("drops a submission whose honeypot is filled: the same answer, nothing stored, nothing sent", async () => {
    const before = await storedCounts();
    const input = { ...goodContact(), website: "https://spam.example" };
    expect(await t.client().forms.contact.submit.mutate(input)).toEqual({ ok: true });
    expect(await storedCounts()).toEqual(before);
    expect(await submissionsFrom(input.email)).toEqual([]);
    expect(await queuedFor(input.email)).toEqual([]);
  });

  it("stores nothing and queues nothing when an insert of the transaction fails", async () => {
    const db = t.server.deps.db;
    const doomed = uniqueEmail("refused");
    // The receipt (the last insert of the three) is refused by the database itself.
    await db.execute(
      sql.raw(
        `ALTER TABLE email_outbox ADD CONSTRAINT test_refuse_receipt CHECK (to_address <> '${doomed}') NOT VALID`,
      ),
    );
    try {
      const before = await storedCounts();
      const code = await codeOf(t.client().forms.contact.submit.mutate({ ...goodContact(), email: doomed }));
      expect(code).toBe("INTERNAL_SERVER_ERROR");
      expect(await storedCounts()).toEqual(before);
      expect(await submissionsFrom(doomed)).toEqual([]);
    } finally {
      await db.execute(sql.raw("ALTER TABLE email_outbox DROP CONSTRAINT test_refuse_receipt"));
    }
  });
});

describe("forms.demo.submit", () => {
  it("stores a good demo request with its fields and queues both emails", async () => {
    const input = goodDemo();
    expect(await t.client().forms.demo.submit.mutate(input)).toEqual({ ok: true });
    const [row] = await submissionsFrom(input.workEmail);
    expect(row).toMatchObject({
      kind: "demo",
      status: "new",
      name: "Grace Hopper",
      company: "Harvard Mark I",
      fields: {
        companySize: "201-1000",
        role: "Head of support",
        useCase: input.useCase,
        preferredDate: input.preferredDate,
        timezone: "America/New_York",
        phone: "+1 (212) 555-0100",
      },
    });
    expect(await queuedFor(input.workEmail)).toHaveLength(1);
    await deliverQueuedEmail(t);
    const [receipt] = await recordedEmailsTo(t, input.workEmail);
    expect(receipt?.subject).toBe("Parley: we received your demo request");
  });

  it("accepts the optional fields left out or blank, and stores a preferred date given with an offset in UTC", async () => {
    const { role: _r, timezone: _tz, phone: _p, website: _w, ...required } = goodDemo();
    expect(await t.client().forms.demo.submit.mutate({ ...required, preferredDate: undefined })).toEqual({
      ok: true,
    });
    const blank = {
      ...goodDemo(),
      role: "",
      timezone: " ",
      phone: "",
      preferredDate: "2099-05-01T14:00:00+02:00",
    };
    expect(await t.client().forms.demo.submit.mutate(blank)).toEqual({ ok: true });
    const [row] = await submissionsFrom(blank.workEmail);
    expect(row?.fields).toEqual({
      companySize: "201-1000",
      useCase: blank.useCase,
      preferredDate: "2099-05-01T12:00:00.000Z",
    });
  });

  it("refuses each bad field with a field error on that field and stores nothing", async () => {
    const before = await storedCounts();
    const cases: [field: string, value: unknown][] = [
      ["name", ""],
      ["name", "Grace\u0000"],
      ["workEmail", "grace"],
      ["workEmail", "grace@gmail.com"],
      ["workEmail", "  Grace@GMAIL.com "],
      ["workEmail", "grace@proton.me"],
      ["company", ""],
      ["company", "c".repeat(121)],
      ["companySize", "huge"],
      ["companySize", ""],
      ["role", "r".repeat(101)],
      ["useCase", "short"],
      ["useCase", "u".repeat(5001)],
      ["preferredDate", new Date(Date.now() - DAY_MS).toISOString()],
      ["preferredDate", "tomorrow"],
      ["preferredDate", "2099-05-01T14:00:00"],
      ["preferredDate", "2099-13-01T14:00:00Z"],
      ["timezone", "Mars/Olympus_Mons"],
      ["timezone", "Europe/Paris\u0000"],
      ["phone", "call me maybe"],
      ["phone", "12345"],
      ["phone", "+1 234 567 890 123 456 789 012"],
    ];
    for (const [field, value] of cases) {
      const errors = await fieldErrorsOf(
        t.client().forms.demo.submit.mutate({ ...goodDemo(), [field]: value } as never),
      );
      expect(errors[field], `${field} = ${JSON.stringify(value)}`).toBeDefined();
      expect(Object.keys(errors), field).toEqual([field]);
    }
    expect(await storedCounts()).toEqual(before);
  });

  it("drops a submission whose honeypot is filled, silently", async () => {
    const before = await storedCounts();
    const input = { ...goodDemo(), website: "filled by a bot" };
    expect(await t.client().forms.demo.submit.mutate(input)).toEqual({ ok: true });
    expect(await storedCounts()).toEqual(before);
  });
});

describe("form rate limits", () => {
  it("refuses a burst from one address with TOO_MANY_REQUESTS and a retry hint, across both forms, before storing", async () => {
    await using limited = await startTestServer({
      rateLimits: { forms: { points: 3, durationSeconds: 60 } },
    });
    const client = limited.client();
    for (let i = 0; i < 2; i++)
      expect(await client.forms.contact.submit.mutate(goodContact())).toEqual({ ok: true });
    expect(await client.forms.demo.submit.mutate(goodDemo())).toEqual({ ok: true });
    const burst = await Promise.allSettled([
      client.forms.contact.submit.mutate(goodContact()),
      client.forms.demo.submit.mutate(goodDemo()),
      client.forms.contact.submit.mutate({ ...goodContact(), website: "bot" }),
    ]);
    for (const outcome of burst) {
      expect(outcome.status).toBe("rejected");
      const error = (outcome as PromiseRejectedResult).reason as {
        data?: { code?: string; retryAfterMs?: number };
      };
      expect(error.data?.code).toBe("TOO_MANY_REQUESTS");
      expect(error.data?.retryAfterMs).toBeGreaterThan(0);
    }
    const [stored] = await limited.server.deps.db.select({ n: count() }).from(schema.formSubmissions);
    expect(stored?.n).toBe(3);
  });
});

describe("forms.submissions (admin)", () => {
  it("lists newest first, filters by kind and status, and pages with a cursor without repeats or gaps", async () => {
    const admin = await signedInAdmin(t);
    const company = `Pager ${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      await t.client().forms.demo.submit.mutate({ ...goodDemo(), company, name: `Pager ${i}` });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const result = await admin.api.forms.submissions.list.query({ kind: "demo", cursor, limit: 2 });
      expect(result.items.length).toBeLessThanOrEqual(2);
      for (const item of result.items) {
        expect(item.kind).toBe("demo");
        if (item.company === company) seen.push(item.name);
      }
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    expect(seen).toEqual(["Pager 4", "Pager 3", "Pager 2", "Pager 1", "Pager 0"]);

    const contacts = await admin.api.forms.submissions.list.query({ kind: "contact" });
    expect(contacts.items.every((item) => item.kind === "contact")).toBe(true);
    const closed = await admin.api.forms.submissions.list.query({ status: "closed" });
    expect(closed.items.every((item) => item.status === "closed")).toBe(true);
    expect(await admin.api.forms.submissions.list.query()).toMatchObject({ items: expect.any(Array) });
  });

  it("gets one submission, updates its status and appends signed notes", async () => {
    const admin = await signedInAdmin(t);
    const input = goodContact();
    await t.client().forms.contact.submit.mutate(input);
    const [row] = await submissionsFrom(input.email);
    const id = row?.id ?? "";
    expect(await admin.api.forms.submissions.get.query({ id })).toMatchObject({
      id,
      kind: "contact",
      status: "new",
      fields: { subject: "Pricing" },
    });
    const contacted = await admin.api.forms.submissions.update.mutate({ id, status: "contacted" });
    expect(contacted).toMatchObject({ status: "contacted", notes: [] });
    await admin.api.forms.submissions.update.mutate({ id, note: "  Called, <b>keen</b>.  " });
    const qualified = await admin.api.forms.submissions.update.mutate({
      id,
      status: "qualified",
      note: "Sent a quote",
    });
    expect(qualified.status).toBe("qualified");
    expect(qualified.notes.map((note) => [note.by, note.text])).toEqual([
      [admin.email, "Called, <b>keen</b>."],
      [admin.email, "Sent a quote"],
    ]);
    expect(qualified.updatedAt.getTime()).toBeGreaterThan(contacted.createdAt.getTime() - 1);
    const listed = await admin.api.forms.submissions.list.query({ status: "qualified" });
    expect(listed.items.map((item) => item.id)).toContain(id);
  });

  it("refuses unknown ids with NOT_FOUND and malformed input with field errors, changing nothing", async () => {
    const admin = await signedInAdmin(t);
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect(await codeOf(admin.api.forms.submissions.get.query({ id: unknown }))).toBe("NOT_FOUND");
    expect(await codeOf(admin.api.forms.submissions.update.mutate({ id: unknown, status: "closed" }))).toBe(
      "NOT_FOUND",
    );
    const update = admin.api.forms.submissions.update;
    expect((await fieldErrorsOf(admin.api.forms.submissions.get.query({ id: "nope" }))).id).toBeDefined();
    expect((await fieldErrorsOf(update.mutate({ id: unknown }))).status).toBeDefined();
    expect(
      (await fieldErrorsOf(update.mutate({ id: unknown, status: "won" as never }))).status,
    ).toBeDefined();
    expect((await fieldErrorsOf(update.mutate({ id: unknown, note: "" }))).note).toBeDefined();
    expect((await fieldErrorsOf(update.mutate({ id: unknown, note: "x\u0000" }))).note).toBeDefined();
    expect((await fieldErrorsOf(update.mutate({ id: unknown, note: "n".repeat(2001) }))).note).toBeDefined();
    const list = admin.api.forms.submissions.list;
    expect((await fieldErrorsOf(list.query({ kind: "other" as never }))).kind).toBeDefined();
    expect((await fieldErrorsOf(list.query({ cursor: "not a cursor!" }))).cursor).toBeDefined();
    expect((await fieldErrorsOf(list.query({ cursor: "bm90LWpzb24" }))).cursor).toBeDefined();
    expect((await fieldErrorsOf(list.query({ limit: 1000 }))).limit).toBeDefined();
  });

  it("is for admins only: UNAUTHORIZED anonymously, FORBIDDEN for a user", async () => {
    const user = await signedInUser(t);
    const id = "00000000-0000-4000-8000-000000000000";
    expect(await codeOf(t.client().forms.submissions.list.query())).toBe("UNAUTHORIZED");
    expect(await codeOf(t.client().forms.submissions.get.query({ id }))).toBe("UNAUTHORIZED");
    expect(await codeOf(t.client().forms.submissions.update.mutate({ id, status: "closed" }))).toBe(
      "UNAUTHORIZED",
    );
    expect(await codeOf(user.api.forms.submissions.list.query())).toBe("FORBIDDEN");
    expect(await codeOf(user.api.forms.submissions.get.query({ id }))).toBe("FORBIDDEN");
    expect(await codeOf(user.api.forms.submissions.update.mutate({ id, status: "closed" }))).toBe(
      "FORBIDDEN",
    );
  });
});
