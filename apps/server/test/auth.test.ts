import type { AppRouter, TRPCClientError } from "@parley/client";
import { SESSION_ENDED_CLOSE_CODE } from "@parley/core";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { codeOf, fieldErrorsOf } from "@parley/testing/api-errors";
import { openRawSocket } from "@parley/testing/raw-socket";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

async function registered(email = uniqueEmail(), password = GOOD_PASSWORD) {
  const result = await t.client().auth.register.mutate({ email, password, displayName: "Test User" });
  if (!result.token) throw new Error("register returned no token to a client without Origin");
  return { email, password, token: result.token, user: result.user };
}

async function countUsers(email: string) {
  const rows = await t.server.deps.db.select().from(schema.users).where(eq(schema.users.email, email));
  return rows.length;
}

async function lastEmailUrl(to: string, template: string): Promise<string> {
  const [row] = await t.server.deps.db
    .select()
    .from(schema.emailOutbox)
    .where(eq(schema.emailOutbox.toAddress, to))
    .orderBy(desc(schema.emailOutbox.createdAt));
  if (!row || row.template !== template) throw new Error(`no ${template} email queued for ${to}`);
  return (row.data as { url: string }).url;
}

const tokenFrom = (url: string) => new URL(url).searchParams.get("token") ?? "";

describe("auth over bearer tokens", () => {
  it("register creates the user, returns a token, and me answers with that user", async () => {
    const { token, user, email } = await registered();
    expect(user).toMatchObject({ email, displayName: "Test User", role: "user", emailVerified: false });
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(await t.client(token).auth.me.query()).toMatchObject({ id: user.id, email });
  });

  it("me is null without a token and with an unknown one", async () => {
    expect(await t.client().auth.me.query()).toBeNull();
    expect(await t.client("a".repeat(40)).auth.me.query()).toBeNull();
  });

  it("register normalises the email and display name", async () => {
    const email = uniqueEmail("Mixed");
    const result = await t.client().auth.register.mutate({
      email: `  ${email.toUpperCase()} `,
      password: GOOD_PASSWORD,
      displayName: "  Ada   Lovelace ",
    });
    expect(result.user.email).toBe(email.toLowerCase());
    expect(result.user.displayName).toBe("Ada Lovelace");
  });

  it("register refuses a duplicate email, in any case, with CONFLICT and creates nothing", async () => {
    const { email } = await registered();
    const again = t.client().auth.register.mutate({
      email: email.toUpperCase(),
      password: GOOD_PASSWORD,
      displayName: "Impostor",
    });
    expect(await codeOf(again)).toBe("CONFLICT");
    expect(await countUsers(email)).toBe(1);
  });

  it("register refuses each bad field with a field error and creates nothing", async () => {
    const email = uniqueEmail();
    const register = (input: { email: string; password: string; displayName: string }) =>
      fieldErrorsOf(t.client().auth.register.mutate(input));
    expect(
      (await register({ email: "not-an-email", password: GOOD_PASSWORD, displayName: "A" })).email,
    ).toBeDefined();
    expect((await register({ email, password: "short", displayName: "A" })).password?.[0]).toMatch(
      /at least 10/,
    );
    expect((await register({ email, password: "Password123", displayName: "A" })).password?.[0]).toMatch(
      /common/,
    );
    expect((await register({ email, password: email, displayName: "A" })).password?.[0]).toMatch(/email/);
    expect((await register({ email, password: "x".repeat(257), displayName: "A" })).password).toBeDefined();
    expect(
      (await register({ email, password: GOOD_PASSWORD, displayName: "   " })).displayName,
    ).toBeDefined();
    expect(
      (await register({ email, password: GOOD_PASSWORD, displayName: "a\u0000b" })).displayName,
    ).toBeDefined();
    expect(await countUsers(email)).toBe(0);
  });

  it("login returns a new session whose id differs from the one presented, and ends the presented one", async () => {
    const { email, password, token: first } = await registered();
    const { token: second, user } = await t.client(first).auth.login.mutate({ email, password });
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(user.email).toBe(email);
    expect(await t.client(second).auth.me.query()).toMatchObject({ email });
    expect(await t.client(first).auth.me.query()).toBeNull();
  });

  it("login with a wrong password or an unknown email gives the same UNAUTHORIZED", async () => {
    const { email } = await registered();
    const wrongPassword = t.client().auth.login.mutate({ email, password: "not the password at all" });
    const unknownEmail = t.client().auth.login.mutate({ email: uniqueEmail(), password: GOOD_PASSWORD });
    const [a, b] = await Promise.allSettled([wrongPassword, unknownEmail]);
    for (const outcome of [a, b]) {
      expect(outcome.status).toBe("rejected");
      const error = (outcome as PromiseRejectedResult).reason as TRPCClientError<AppRouter>;
      expect(error.data?.code).toBe("UNAUTHORIZED");
      expect(error.message).toBe("Wrong email or password");
    }
  });

  it("login refuses malformed input with BAD_REQUEST", async () => {
    expect(await codeOf(t.client().auth.login.mutate({ email: "nope", password: "x" }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.client().auth.login.mutate({ email: uniqueEmail(), password: "" }))).toBe(
      "BAD_REQUEST",
    );
  });

  it("logout ends the session: the old token no longer authenticates", async () => {
    const { token } = await registered();
    expect(await t.client(token).auth.logout.mutate()).toEqual({ ok: true });
    expect(await t.client(token).auth.me.query()).toBeNull();
    expect(await codeOf(t.client(token).auth.logout.mutate())).toBe("UNAUTHORIZED");
  });

  it("logout without a session is UNAUTHORIZED", async () => {
    expect(await codeOf(t.client().auth.logout.mutate())).toBe("UNAUTHORIZED");
  });

  it("changePassword ends every session, the caller's included, and returns a fresh one", async () => {
    const { email, password, token } = await registered();
    const other = (await t.client().auth.login.mutate({ email, password })).token ?? "";
    const newPassword = "an entirely new passphrase";
    const result = await t
      .client(token)
      .auth.changePassword.mutate({ currentPassword: password, newPassword });
    expect(result.token).toBeDefined();
    expect(result.token).not.toBe(token);
    expect(await t.client(token).auth.me.query()).toBeNull();
    expect(await t.client(other).auth.me.query()).toBeNull();
    expect(await t.client(result.token).auth.me.query()).toMatchObject({ email });
    expect(await codeOf(t.client().auth.login.mutate({ email, password }))).toBe("UNAUTHORIZED");
    expect((await t.client().auth.login.mutate({ email, password: newPassword })).token).toBeDefined();
  });

  it("changePassword refuses a wrong current password, a weak or unchanged new one, and anonymous callers", async () => {
    const { password, token, email } = await registered();
    const change = (currentPassword: string, newPassword: string) =>
      t.client(token).auth.changePassword.mutate({ currentPassword, newPassword });
    expect(await codeOf(change("not my password!", "another good passphrase"))).toBe("FORBIDDEN");
    expect((await fieldErrorsOf(change(password, password))).newPassword).toBeDefined();
    expect((await fieldErrorsOf(change(password, "qwertyuiop"))).newPassword).toBeDefined();
    expect((await fieldErrorsOf(change(password, email))).newPassword).toBeDefined();
    expect(
      await codeOf(
        t.client().auth.changePassword.mutate({ currentPassword: password, newPassword: "x".repeat(20) }),
      ),
    ).toBe("UNAUTHORIZED");
    // Nothing changed: the session and the password still work.
    expect(await t.client(token).auth.me.query()).toMatchObject({ email });
    expect((await t.client().auth.login.mutate({ email, password })).token).toBeDefined();
  });

  it("sessions.list shows the user's sessions with the current one marked, and never a token", async () => {
    const { email, password, token } = await registered();
    const second = (await t.client().auth.login.mutate({ email, password })).token ?? "";
    const sessions = await t.client(token).auth.sessions.list.query();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const serialized = JSON.stringify(sessions);
    expect(serialized).not.toContain(token);
    expect(serialized).not.toContain(second);
  });

  it("sessions.revoke ends another session of the user, which then fails", async () => {
    const { email, password, token } = await registered();
    const second = (await t.client().auth.login.mutate({ email, password })).token ?? "";
    const other = (await t.client(token).auth.sessions.list.query()).find((s) => !s.current);
    if (!other) throw new Error("expected a second session");
    await t.client(token).auth.sessions.revoke.mutate({ sessionId: other.sessionId });
    expect(await t.client(second).auth.me.query()).toBeNull();
    expect(await t.client(token).auth.me.query()).toMatchObject({ email });
  });

  it("sessions.revoke refuses unknown, malformed and other users' sessions", async () => {
    const alice = await registered();
    const bob = await registered();
    const [bobSession] = await t.client(bob.token).auth.sessions.list.query();
    const revoke = (sessionId: string) => t.client(alice.token).auth.sessions.revoke.mutate({ sessionId });
    expect(await codeOf(revoke("0".repeat(32)))).toBe("NOT_FOUND");
    expect(await codeOf(revoke("not a handle"))).toBe("BAD_REQUEST");
    expect(await codeOf(revoke(bobSession?.sessionId ?? ""))).toBe("NOT_FOUND");
    expect(await t.client(bob.token).auth.me.query()).toMatchObject({ id: bob.user.id });
    expect(await codeOf(t.client().auth.sessions.list.query())).toBe("UNAUTHORIZED");
  });

  it("verifyEmail accepts the queued token once, then refuses it", async () => {
    const { email, token } = await registered();
    const verification = tokenFrom(await lastEmailUrl(email, "verify-email"));
    await t.client().auth.verifyEmail.mutate({ token: verification });
    expect(await t.client(token).auth.me.query()).toMatchObject({ emailVerified: true });
    expect(await codeOf(t.client().auth.verifyEmail.mutate({ token: verification }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.client().auth.verifyEmail.mutate({ token: "has spaces!" }))).toBe("BAD_REQUEST");
    expect(await codeOf(t.client(token).auth.resendVerification.mutate())).toBe("BAD_REQUEST");
  });

  it("resendVerification queues a new token and retires the old one", async () => {
    const { email, token } = await registered();
    const first = tokenFrom(await lastEmailUrl(email, "verify-email"));
    await t.client(token).auth.resendVerification.mutate();
    const second = tokenFrom(await lastEmailUrl(email, "verify-email"));
    expect(second).not.toBe(first);
    expect(await codeOf(t.client().auth.verifyEmail.mutate({ token: first }))).toBe("BAD_REQUEST");
    await t.client().auth.verifyEmail.mutate({ token: second });
    expect(await codeOf(t.client().auth.resendVerification.mutate())).toBe("UNAUTHORIZED");
  });

  it("requestPasswordReset answers the same for unknown and known emails; the token resets once and ends every session", async () => {
    const { email, token } = await registered();
    expect(await t.client().auth.requestPasswordReset.mutate({ email: uniqueEmail() })).toEqual({ ok: true });
    expect(await t.client().auth.requestPasswordReset.mutate({ email })).toEqual({ ok: true });
    const reset = tokenFrom(await lastEmailUrl(email, "password-reset"));
    const password = "a brand new passphrase";
    await t.client().auth.resetPassword.mutate({ token: reset, password });
    expect(await t.client(token).auth.me.query()).toBeNull();
    expect((await t.client().auth.login.mutate({ email, password })).token).toBeDefined();
    expect(
      await codeOf(
        t.client().auth.resetPassword.mutate({ token: reset, password: "yet another passphrase" }),
      ),
    ).toBe("BAD_REQUEST");
    expect(
      (await fieldErrorsOf(t.client().auth.resetPassword.mutate({ token: reset, password: "short" })))
        .password,
    ).toBeDefined();
    expect(await codeOf(t.client().auth.requestPasswordReset.mutate({ email: "nope" }))).toBe("BAD_REQUEST");
  });
});

describe("auth over the session cookie", () => {
  it("register sets an httpOnly SameSite=Lax cookie and returns no token to a browser", async () => {
    const response = await fetch(`${t.url}/trpc/auth.register`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: new URL(t.url).origin },
      body: JSON.stringify({
        json: { email: uniqueEmail(), password: GOOD_PASSWORD, displayName: "Browser" },
      }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("parley_session="));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i);
    const body = (await response.json()) as { result: { data: { json: Record<string, unknown> } } };
    expect(body.result.data.json.token).toBeUndefined();
  });

  it("the cookie is Secure in production", async () => {
    await using production = await startTestServer({ production: true });
    const response = await fetch(`${production.url}/trpc/auth.register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: { email: uniqueEmail(), password: GOOD_PASSWORD, displayName: "Prod" } }),
    });
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("parley_session="));
    expect(cookie).toMatch(/Secure/);
  });

  it("me, logout and login work through the cookie; login rotates it and logout clears it", async () => {
    const browser = t.cookieClient();
    const email = uniqueEmail();
    await browser.api.auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Cookie" });
    const first = browser.cookie();
    expect(first).toBeDefined();
    expect(await browser.api.auth.me.query()).toMatchObject({ email });

    const login = await browser.api.auth.login.mutate({ email, password: GOOD_PASSWORD });
    expect(login.token).toBeUndefined();
    const second = browser.cookie();
    expect(second).not.toBe(first);
    expect(await t.client(first).auth.me.query()).toBeNull();

    await browser.api.auth.logout.mutate();
    expect(browser.cookie()).toBeUndefined();
    expect(await t.client(second).auth.me.query()).toBeNull();
    expect(await browser.api.auth.me.query()).toBeNull();
  });

  it("changePassword through the cookie replaces it; wrong password and duplicate email are refused", async () => {
    const browser = t.cookieClient();
    const email = uniqueEmail();
    await browser.api.auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Cookie" });
    const before = browser.cookie();
    expect(await codeOf(browser.api.auth.login.mutate({ email, password: "wrong wrong wrong" }))).toBe(
      "UNAUTHORIZED",
    );
    expect(
      await codeOf(
        browser.api.auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Again" }),
      ),
    ).toBe("CONFLICT");
    await browser.api.auth.changePassword.mutate({
      currentPassword: GOOD_PASSWORD,
      newPassword: "fresh passphrase 2",
    });
    expect(browser.cookie()).not.toBe(before);
    expect(await t.client(before).auth.me.query()).toBeNull();
    expect(await browser.api.auth.me.query()).toMatchObject({ email });
    const sessions = await browser.api.auth.sessions.list.query();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.current).toBe(true);
  });
});

describe("WebSocket connections follow their session", () => {
  it("logout closes the sockets opened with that session", async () => {
    const { token } = await registered();
    const socket = await openRawSocket(t.url, { token });
    const me = await socket.call("query", "auth.me");
    expect(me.result?.data?.json).toMatchObject({ emailVerified: false });
    await t.client(token).auth.logout.mutate();
    expect(await socket.closed).toBe(SESSION_ENDED_CLOSE_CODE);
  });

  it("password change closes the sockets of every session of the user, and a reconnect with the old token is anonymous", async () => {
    const { token, email, password } = await registered();
    const other = (await t.client().auth.login.mutate({ email, password })).token ?? "";
    const first = await openRawSocket(t.url, { token });
    const second = await openRawSocket(t.url, { token: other });
    await first.call("query", "auth.me");
    await second.call("query", "auth.me");
    await t
      .client(token)
      .auth.changePassword.mutate({ currentPassword: password, newPassword: "brand new phrase 77" });
    expect(await first.closed).toBe(SESSION_ENDED_CLOSE_CODE);
    expect(await second.closed).toBe(SESSION_ENDED_CLOSE_CODE);
    const again = await openRawSocket(t.url, { token });
    const me = await again.call("query", "auth.me");
    expect(me.result?.data?.json).toBeNull();
    const logout = await again.call("mutation", "auth.logout");
    expect(logout.error?.data?.code).toBe("UNAUTHORIZED");
    again.close();
  });

  it("a socket authenticated by the session cookie on the upgrade closes on logout too", async () => {
    const browser = t.cookieClient();
    await browser.api.auth.register.mutate({
      email: uniqueEmail(),
      password: GOOD_PASSWORD,
      displayName: "C",
    });
    const socket = await openRawSocket(t.url, {
      origin: new URL(t.url).origin,
      headers: { cookie: `parley_session=${browser.cookie()}` },
    });
    const me = await socket.call("query", "auth.me");
    expect(me.result?.data?.json).toMatchObject({ displayName: "C" });
    await browser.api.auth.logout.mutate();
    expect(await socket.closed).toBe(SESSION_ENDED_CLOSE_CODE);
  });

  it("revoking one session closes its sockets and leaves the others open", async () => {
    const { token, email, password } = await registered();
    const other = (await t.client().auth.login.mutate({ email, password })).token ?? "";
    const kept = await openRawSocket(t.url, { token });
    const revoked = await openRawSocket(t.url, { token: other });
    await kept.call("query", "auth.me");
    await revoked.call("query", "auth.me");
    const target = (await t.client(token).auth.sessions.list.query()).find((s) => !s.current);
    await t.client(token).auth.sessions.revoke.mutate({ sessionId: target?.sessionId ?? "" });
    expect(await revoked.closed).toBe(SESSION_ENDED_CLOSE_CODE);
    const me = await kept.call("query", "auth.me");
    expect(me.result?.data?.json).toMatchObject({ email });
    kept.close();
  });
});
