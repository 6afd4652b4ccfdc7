import { randomUUID } from "node:crypto";
import { request } from "node:http";
import type { ParleyClient } from "@parley/client";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { codeOf, makeAdmin, signUp } from "@parley/testing/chat-fixtures";
import { openRawSocket } from "@parley/testing/raw-socket";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const ONCE_A_MINUTE = { points: 1, durationSeconds: 60 };

async function emailsTo(t: TestServer, address: string, template: string) {
  const rows = await t.server.deps.db
    .select()
    .from(schema.emailOutbox)
    .where(and(eq(schema.emailOutbox.toAddress, address), eq(schema.emailOutbox.template, template)));
  return rows.length;
}

/** A JSON POST to /trpc from a chosen loopback address, so the server sees distinct clients. */
function postFrom(
  t: TestServer,
  localAddress: string,
  path: string,
  json: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(`/trpc/${path}`, t.url);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", localAddress, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ json }));
  });
}

describe("limits on emails to one inbox", () => {
  it("resendVerification is limited per user and per address: the refused calls queue no email", async () => {
    await using t = await startTestServer({ rateLimits: { email: { points: 3, durationSeconds: 600 } } });
    const { api, user } = await signUp(t);
    for (let i = 0; i < 3; i++) expect(await api.auth.resendVerification.mutate()).toEqual({ ok: true });
    for (let i = 0; i < 57; i++) {
      expect(await codeOf(api.auth.resendVerification.mutate())).toBe("TOO_MANY_REQUESTS");
    }
    // The one from registration and three resends: not sixty.
    expect(await emailsTo(t, user.email, "verify-email")).toBe(4);
    // Another user's are their own.
    const other = await signUp(t);
    expect(await other.api.auth.resendVerification.mutate()).toEqual({ ok: true });
  });

  it("password reset requests for one address are limited whichever address they come from, known or not", async () => {
    await using t = await startTestServer({ rateLimits: { email: { points: 2, durationSeconds: 600 } } });
    const { user } = await signUp(t);
    const unknown = uniqueEmail("nobody");
    for (const target of [user.email, unknown]) {
      const answers = [];
      for (const from of ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]) {
        answers.push((await postFrom(t, from, "auth.requestPasswordReset", { email: target })).status);
      }
      // The same answers for an address with an account and one without.
      expect(answers).toEqual([200, 200, 429, 429]);
    }
    expect(await emailsTo(t, user.email, "password-reset")).toBe(2);
  });
});

describe("limits on password changes", () => {
  it("changePassword is limited per user; another user's calls still go through", async () => {
    await using t = await startTestServer({ rateLimits: { password: { points: 2, durationSeconds: 300 } } });
    const { api } = await signUp(t);
    const wrong = () =>
      api.auth.changePassword.mutate({
        currentPassword: "not my password at all",
        newPassword: "a new passphrase",
      });
    expect(await codeOf(wrong())).toBe("FORBIDDEN");
    expect(await codeOf(wrong())).toBe("FORBIDDEN");
    expect(await codeOf(wrong())).toBe("TOO_MANY_REQUESTS");
    // Even the right password waits: the limit is on attempts, not failures.
    expect(
      await codeOf(
        api.auth.changePassword.mutate({ currentPassword: GOOD_PASSWORD, newPassword: "a new passphrase" }),
      ),
    ).toBe("TOO_MANY_REQUESTS");
    const other = await signUp(t);
    const { token } = await other.api.auth.changePassword.mutate({
      currentPassword: GOOD_PASSWORD,
      newPassword: "a new passphrase",
    });
    expect(token).toBeDefined();
  });

  it("one user flooding changePassword with wrong passwords does not starve another user's logins (fair hash queue)", async () => {
    await using t = await startTestServer({
      // One argon2 at a time and a short queue: the flood alone would fill it.
      limits: { concurrentHashes: 1, queuedHashes: 6, hashesPerKey: 3 },
    });
    const attacker = await signUp(t);
    const victim = await signUp(t);
    let flooding = true;
    const refusedFlood: number[] = [];
    const flood = async () => {
      while (flooding) {
        const { status } = await postFrom(
          t,
          "127.0.0.2",
          "auth.changePassword",
          { currentPassword: "wrong password, again", newPassword: "a new passphrase" },
          { authorization: `Bearer ${attacker.token}` },
        );
        if (status === 429) refusedFlood.push(status);
      }
    };
    const flooders = Array.from({ length: 12 }, flood);
    const logins: number[] = [];
    try {
      // Let the flood fill the queue first.
      while (refusedFlood.length === 0) await new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 10; i++) {
        const { status } = await postFrom(t, "127.0.0.3", "auth.login", {
          email: victim.user.email,
          password: GOOD_PASSWORD,
        });
        logins.push(status);
      }
    } finally {
      flooding = false;
      await Promise.all(flooders);
    }
    expect(refusedFlood.length).toBeGreaterThan(0);
    expect(logins).toEqual(Array.from({ length: 10 }, () => 200));
  });
});

/** Each write procedure, called by a user (an admin for the admin ones) in a room they created. */
const writes: [string, (api: ParleyClient, roomId: string) => Promise<unknown>][] = [
  ["chat.rooms.create", (api) => api.chat.rooms.create.mutate({ name: "Another", isPrivate: false })],
  ["chat.rooms.update", (api, roomId) => api.chat.rooms.update.mutate({ roomId, name: "Renamed" })],
  ["chat.rooms.delete", (api, roomId) => api.chat.rooms.delete.mutate({ roomId })],
  ["chat.rooms.join", (api, roomId) => api.chat.rooms.join.mutate({ roomId })],
  ["chat.rooms.leave", (api, roomId) => api.chat.rooms.leave.mutate({ roomId })],
  ["chat.rooms.invite", (api, roomId) => api.chat.rooms.invite.mutate({ roomId, userId: randomUUID() })],
  ["chat.rooms.kick", (api, roomId) => api.chat.rooms.kick.mutate({ roomId, userId: randomUUID() })],
  ["chat.rooms.markRead", (api, roomId) => api.chat.rooms.markRead.mutate({ roomId, seq: 1 })],
  ["chat.messages.edit", (api) => api.chat.messages.edit.mutate({ messageId: randomUUID(), content: "x" })],
  ["chat.messages.delete", (api) => api.chat.messages.delete.mutate({ messageId: randomUUID() })],
  ["chat.messages.react", (api) => api.chat.messages.react.mutate({ messageId: randomUUID(), emoji: "👍" })],
  [
    "chat.messages.unreact",
    (api) => api.chat.messages.unreact.mutate({ messageId: randomUUID(), emoji: "👍" }),
  ],
  ["auth.logout", (api) => api.auth.logout.mutate()],
  ["auth.sessions.revoke", (api) => api.auth.sessions.revoke.mutate({ sessionId: "0".repeat(32) })],
  ["admin.users.setRole", (api) => api.admin.users.setRole.mutate({ userId: randomUUID(), role: "user" })],
  ["admin.jobs.retry", (api) => api.admin.jobs.retry.mutate({ id: randomUUID() })],
  [
    "forms.submissions.update",
    (api) => api.forms.submissions.update.mutate({ id: randomUUID(), status: "contacted" }),
  ],
];

// One server for the table below: each case has users of its own, so their counters are apart.
let writeLimited: Promise<TestServer>;
beforeAll(() => {
  writeLimited = startTestServer({ rateLimits: { write: ONCE_A_MINUTE } });
});
afterAll(async () => (await writeLimited).close());

describe("limits on writes", () => {
  it.each(writes)("%s is behind the per-user write limit", async (_name, call) => {
    const t = await writeLimited;
    const { api, user } = await signUp(t);
    await makeAdmin(t, user.id);
    // The user's one write this minute...
    const room = await api.chat.rooms.create.mutate({ name: "Mine", isPrivate: false });
    // ...so the next is refused before it does anything.
    expect(await codeOf(call(api, room.id))).toBe("TOO_MANY_REQUESTS");
    // Per user: someone else may still write.
    const other = await signUp(t);
    expect(await other.api.chat.rooms.create.mutate({ name: "Theirs", isPrivate: false })).toBeDefined();
  });

  it("chat.typing over one socket is limited per user", async () => {
    await using t = await startTestServer({ rateLimits: { typing: { points: 3, durationSeconds: 10 } } });
    const { api, token } = await signUp(t);
    const room = await api.chat.rooms.create.mutate({ name: "Typing", isPrivate: false });
    const socket = await openRawSocket(t.url, { token });
    try {
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 20; i++) {
        const reply = await socket.call("mutation", "chat.typing", { roomId: room.id });
        codes.push(reply.error ? reply.error.data?.code : "ok");
      }
      expect(codes.filter((code) => code === "ok")).toHaveLength(3);
      expect(codes.filter((code) => code === "TOO_MANY_REQUESTS")).toHaveLength(17);
    } finally {
      socket.close();
    }
  });
});

describe("Retry-After", () => {
  it("a 429 over HTTP carries Retry-After in whole seconds within the limiter's window, and the body agrees", async () => {
    await using t = await startTestServer({ rateLimits: { auth: { points: 1, durationSeconds: 30 } } });
    const login = () =>
      postFrom(t, "127.0.0.2", "auth.login", { email: uniqueEmail(), password: "wrong password, try again" });
    const first = await login();
    expect(first.status).toBe(401);
    expect(first.headers["retry-after"]).toBeUndefined();
    const refused = await login();
    expect(refused.status).toBe(429);
    const seconds = Number(refused.headers["retry-after"]);
    expect(Number.isInteger(seconds)).toBe(true);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(30);
    const body = JSON.parse(refused.body) as { error: { json: { data: { retryAfterMs: number } } } };
    expect(Math.ceil(body.error.json.data.retryAfterMs / 1000)).toBe(seconds);
  });

  it("the REST doors' 429 carries Retry-After too", async () => {
    await using t = await startTestServer({ rateLimits: { forms: { points: 1, durationSeconds: 45 } } });
    const contact = () =>
      fetch(`${t.url}/api/forms/contact`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: "Ada",
          email: "ada@example.com",
          subject: "Pricing",
          message: "Hello there, team.",
        }),
      });
    expect((await contact()).status).toBe(200);
    const refused = await contact();
    expect(refused.status).toBe(429);
    const seconds = Number(refused.headers.get("retry-after"));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(45);
  });
});
