import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { codeOf } from "@parley/testing/api-errors";
import { and, desc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const SECOND = 1_000;
const HOUR = 60 * 60 * SECOND;
const DAY = 24 * HOUR;

/** A clock the test moves; the server reads it for sessions and tokens. */
function manualClock(start = Date.now()) {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

async function register(t: TestServer, email = uniqueEmail()) {
  const { token } = await t
    .client()
    .auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Clocked" });
  if (!token) throw new Error("register returned no token to a client without Origin");
  return { email, token };
}

async function emailedToken(t: TestServer, to: string, template: string): Promise<string> {
  const [row] = await t.server.deps.db
    .select()
    .from(schema.emailOutbox)
    .where(and(eq(schema.emailOutbox.toAddress, to), eq(schema.emailOutbox.template, template)))
    .orderBy(desc(schema.emailOutbox.createdAt))
    .limit(1);
  if (!row) throw new Error(`no ${template} email queued for ${to}`);
  return new URL((row.data as { url: string }).url).searchParams.get("token") ?? "";
}

/**
 * Counts the statements the server sends to PostgreSQL while `during` runs: each client the pool
 * hands out reports its queries (begin and commit included).
 */
async function statementsDuring(t: TestServer, during: () => Promise<unknown>): Promise<number> {
  const pool = t.server.db.pool;
  if (!pool) throw new Error("the test server runs on PostgreSQL, with a pool");
  let count = 0;
  const counted = new WeakSet<object>();
  const watch = (client: object) => {
    if (counted.has(client)) return;
    counted.add(client);
    const query = Reflect.get(client, "query") as (...args: unknown[]) => unknown;
    Reflect.set(client, "query", (...args: unknown[]) => {
      if (counting) count++;
      return query.apply(client, args);
    });
  };
  let counting = false;
  pool.on("acquire", watch);
  try {
    counting = true;
    await during();
  } finally {
    counting = false;
    pool.off("acquire", watch);
  }
  return count;
}

describe("password reset requests cost the same for known and unknown addresses", () => {
  it("each request is one statement, whether or not the account exists, and only a known one queues an email", async () => {
    await using t = await startTestServer({ emailWorker: { enabled: false } });
    const { email } = await register(t);
    const request = (address: string) => () =>
      t.client().auth.requestPasswordReset.mutate({ email: address });
    for (let i = 0; i < 5; i++) {
      expect(await statementsDuring(t, request(email))).toBe(1);
      expect(await statementsDuring(t, request(uniqueEmail("nobody")))).toBe(1);
    }
    const tokens = await t.server.deps.db.select().from(schema.passwordResetTokens);
    expect(tokens).toHaveLength(5);
    expect(await emailedToken(t, email, "password-reset")).not.toBe("");
    const unknownMail = await t.server.deps.db
      .select()
      .from(schema.emailOutbox)
      .where(eq(schema.emailOutbox.template, "password-reset"));
    expect(unknownMail.map((row) => row.toAddress)).toEqual(Array.from({ length: 5 }, () => email));
  });
});

describe("time, on a controlled clock", () => {
  it("a session unused for its idle lifetime ends; used within it, it slides on", async () => {
    const clock = manualClock();
    await using t = await startTestServer({
      clock: clock.now,
      limits: { sessionIdleMs: DAY, sessionAbsoluteMs: 30 * DAY },
    });
    const { token } = await register(t);
    clock.advance(DAY - SECOND);
    expect(await t.client(token).auth.me.query()).not.toBeNull();
    // That use moved the expiry a day on from now.
    clock.advance(DAY - SECOND);
    expect(await t.client(token).auth.me.query()).not.toBeNull();
    clock.advance(DAY + SECOND);
    expect(await t.client(token).auth.me.query()).toBeNull();
    const rows = await t.server.deps.db.select().from(schema.sessions).where(eq(schema.sessions.id, token));
    expect(rows).toHaveLength(0);
  });

  it("a session used all the time still ends at its absolute lifetime", async () => {
    const clock = manualClock();
    await using t = await startTestServer({
      clock: clock.now,
      limits: { sessionIdleMs: DAY, sessionAbsoluteMs: 7 * DAY },
    });
    const { token } = await register(t);
    // Used every 12 h, so never idle for long: valid up to 6.5 days in...
    for (let elapsed = 0; elapsed < 7 * DAY; elapsed += 12 * HOUR) {
      expect(await t.client(token).auth.me.query()).not.toBeNull();
      clock.advance(12 * HOUR);
    }
    // ...and over at 7 days, however recently used.
    expect(await t.client(token).auth.me.query()).toBeNull();
  });

  it("a reset token works until 1 h after the request, not after", async () => {
    const clock = manualClock();
    await using t = await startTestServer({ clock: clock.now });
    const { email } = await register(t);
    await t.client().auth.requestPasswordReset.mutate({ email });
    const late = await emailedToken(t, email, "password-reset");
    clock.advance(HOUR + SECOND);
    expect(
      await codeOf(t.client().auth.resetPassword.mutate({ token: late, password: "a later passphrase" })),
    ).toBe("BAD_REQUEST");
    await t.client().auth.requestPasswordReset.mutate({ email });
    const inTime = await emailedToken(t, email, "password-reset");
    clock.advance(HOUR - SECOND);
    expect(
      await t.client().auth.resetPassword.mutate({ token: inTime, password: "a timely passphrase" }),
    ).toEqual({
      ok: true,
    });
  });

  it("a verification token works until 24 h after it was issued, not after", async () => {
    const clock = manualClock();
    await using t = await startTestServer({ clock: clock.now });
    const late = await register(t);
    const lateToken = await emailedToken(t, late.email, "verify-email");
    clock.advance(DAY + SECOND);
    expect(await codeOf(t.client().auth.verifyEmail.mutate({ token: lateToken }))).toBe("BAD_REQUEST");
    const inTime = await register(t);
    const inTimeToken = await emailedToken(t, inTime.email, "verify-email");
    clock.advance(DAY - SECOND);
    expect(await t.client().auth.verifyEmail.mutate({ token: inTimeToken })).toEqual({ ok: true });
    expect((await t.client(inTime.token).auth.me.query())?.emailVerified).toBe(true);
  });

  describe("rate-limit windows", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("a limiter refuses within its window and admits again once the window has passed", async () => {
      // rate-limiter-flexible reads Date.now: only Date is faked, timers and I/O stay real.
      vi.useFakeTimers({ toFake: ["Date"] });
      await using t = await startTestServer({ rateLimits: { auth: { points: 2, durationSeconds: 60 } } });
      const login = () =>
        t.client().auth.login.mutate({ email: uniqueEmail(), password: "wrong password, sorry" });
      expect(await codeOf(login())).toBe("UNAUTHORIZED");
      expect(await codeOf(login())).toBe("UNAUTHORIZED");
      expect(await codeOf(login())).toBe("TOO_MANY_REQUESTS");
      vi.setSystemTime(Date.now() + 59 * SECOND);
      expect(await codeOf(login())).toBe("TOO_MANY_REQUESTS");
      vi.setSystemTime(Date.now() + 2 * SECOND);
      expect(await codeOf(login())).toBe("UNAUTHORIZED");
    });
  });
});
