import { randomUUID } from "node:crypto";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { codeOf, roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { INFO, type LogLine, recordingLogger, WARN } from "@parley/testing/log-recorder";
import { openRawSocket } from "@parley/testing/raw-socket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const log = recordingLogger("debug");
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    logger: log.logger,
    // One message per minute: the second send is refused with 429.
    rateLimits: { send: { points: 1, durationSeconds: 60 } },
  });
});
afterAll(() => t.close());

const evil = "https://evil.example";

describe("request logs", () => {
  it("writes one info line per HTTP request with its procedure, status, duration and user, never its token or cookie", async () => {
    const { token, user } = await signUp(t);
    const requestId = `req-${randomUUID()}`;
    const response = await fetch(`${t.url}/trpc/auth.me?input=${encodeURIComponent('{"json":null}')}`, {
      headers: {
        authorization: `Bearer ${token}`,
        cookie: `parley_session=${token}`,
        "x-request-id": requestId,
      },
    });
    expect(response.status).toBe(200);
    await response.text();

    const line = await log.next((l) => l.requestId === requestId && l.msg === "request");
    expect(line).toMatchObject({
      level: INFO,
      method: "GET",
      path: "/trpc/auth.me",
      procedures: ["auth.me"],
      status: 200,
      userId: user.id,
    });
    expect(typeof line.ms).toBe("number");
    // The query string (a GET call's input) is not logged either.
    expect(JSON.stringify(line)).not.toContain("input");
    expect(log.lines.filter((l) => l.requestId === requestId && l.level >= INFO)).toHaveLength(1);
    expect(log.raw.filter((raw) => raw.includes(token))).toEqual([]);
  });

  it("names the failed call's tRPC code in its request line", async () => {
    const { api } = await signUp(t);
    expect(await codeOf(api.chat.messages.list.query({ roomId: randomUUID() }))).toBe("NOT_FOUND");
    const line = await log.next(
      (l) => l.msg === "request" && l.path === "/trpc/chat.messages.list" && l.status === 404,
    );
    expect(line).toMatchObject({ level: INFO, procedures: ["chat.messages.list"], codes: ["NOT_FOUND"] });
  });

  it("writes one info line per call over the WebSocket with its procedure, code and user", async () => {
    const { token, user } = await signUp(t);
    const socket = await openRawSocket(t.url, { token });
    const answer = await socket.call("query", "auth.me");
    expect(answer.result?.type).toBe("data");
    const line = await log.next((l) => l.msg === "call" && l.procedure === "auth.me" && l.userId === user.id);
    expect(line).toMatchObject({ level: INFO, method: "ws", type: "query", code: "OK" });
    expect(typeof line.requestId).toBe("string");
    socket.close();
    expect(log.raw.filter((raw) => raw.includes(token))).toEqual([]);
  });

  it("logs a chat.events subscription's start and end at debug, and nothing per delivered event", async () => {
    const { owner, room } = await roomWith(t, false);
    const socket = await openRawSocket(t.url, { token: owner.token });
    const started = await socket.call("subscription", "chat.events", { roomId: room.id });
    expect(started.result?.type).toBe("started");
    const startLine = await log.next(
      (l) => l.msg === "subscription started" && l.subscriptionId === started.id,
    );
    expect(startLine).toMatchObject({ level: 20, procedure: "chat.events" });
    const linesBefore = log.lines.length;

    // Spaced by the send limit (1 per minute): one message, received; then the stop.
    await send(owner.api, room.id, "one message");
    await socket.next((m) => m.id === started.id && m.result?.type === "data");
    const ofThisSubscription = (l: LogLine) => l.subscriptionId === started.id;
    expect(log.lines.slice(linesBefore).filter(ofThisSubscription)).toEqual([]);

    socket.sendRaw(JSON.stringify({ id: started.id, method: "subscription.stop" }));
    const endLine = await log.next((l) => l.msg === "subscription ended" && l.subscriptionId === started.id);
    expect(endLine).toMatchObject({ level: 20, reason: "stopped by the client", procedure: "chat.events" });
    expect(log.lines.filter(ofThisSubscription)).toHaveLength(2);
    socket.close();
  });

  it("writes a warn line naming the limit when a call is refused with 429", async () => {
    const { owner, room } = await roomWith(t, false);
    await send(owner.api, room.id, "first");
    expect(await codeOf(send(owner.api, room.id, "second"))).toBe("TOO_MANY_REQUESTS");
    const line = await log.next((l) => l.level === WARN && l.limit === "send" && l.userId === owner.user.id);
    expect(line).toMatchObject({ procedure: "chat.messages.send", transport: "http" });
  });

  it("writes a warn line for a failed login with the account's id, never the password or the email", async () => {
    const email = uniqueEmail("wrong-password");
    const { user } = await t
      .client()
      .auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Guesser" });
    const password = `not-the-password-${randomUUID()}`;
    expect(await codeOf(t.client().auth.login.mutate({ email, password }))).toBe("UNAUTHORIZED");
    const line = await log.next(
      (l) => l.level === WARN && l.msg.startsWith("login failed") && l.userId === user.id,
    );
    expect(line.ip).toBeTypeOf("string");

    const unknown = uniqueEmail("nobody");
    expect(await codeOf(t.client().auth.login.mutate({ email: unknown, password }))).toBe("UNAUTHORIZED");
    await log.next((l) => l.level === WARN && l.msg.startsWith("login failed") && l.userId === null);
    await log.next((l) => l.msg === "request" && l.path === "/trpc/auth.login" && l.status === 401);
    // The email worker's own line for the verification email names its recipient, by design and
    // whenever the worker gets to it: every other line must name neither address nor password.
    const others = log.raw.filter((_, i) => log.lines[i]?.component !== "email-worker");
    expect(
      others.filter((raw) => raw.includes(password) || raw.includes(email) || raw.includes(unknown)),
    ).toEqual([]);
    expect(log.raw.filter((raw) => raw.includes(password))).toEqual([]);
  });

  it("writes a warn line for a cross-origin request refused over HTTP", async () => {
    const { token } = await signUp(t);
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: evil, cookie: `parley_session=${token}` },
      body: "{}",
    });
    expect(response.status).toBe(403);
    const line = await log.next((l) => l.msg === "cross-origin request refused");
    expect(line).toMatchObject({ level: WARN, origin: evil, method: "POST", path: "/trpc/auth.logout" });

    // Without Origin, a cookie-carrying request is judged by its Referer: only that origin is logged.
    const refererPath = `/reset-password?token=${randomUUID()}`;
    const refused = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        referer: `${evil}${refererPath}`,
        cookie: `parley_session=${token}`,
      },
      body: "{}",
    });
    expect(refused.status).toBe(403);
    const refererLine = await log.next(
      (l) => l.msg === "cross-origin request refused" && l.origin === undefined,
    );
    expect(refererLine).toMatchObject({ level: WARN, refererOrigin: evil });
    expect(log.raw.filter((raw) => raw.includes(token) || raw.includes(refererPath))).toEqual([]);
  });

  it("writes a warn line for a cross-origin WebSocket upgrade it refuses", async () => {
    await expect(openRawSocket(t.url, { origin: evil })).rejects.toThrow(/403/);
    const line = await log.next((l) => l.msg === "cross-origin WebSocket refused");
    expect(line).toMatchObject({ level: WARN, origin: evil, path: "/trpc" });
  });
});
