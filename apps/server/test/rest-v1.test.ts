import { randomUUID } from "node:crypto";
import { appRouter, procedureEntries, restDoorOf } from "@parley/api";
import { codeOf, rejectionOf, roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { openSse } from "@parley/testing/sse-stream";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  // A short keep-alive, so that a test sees comment lines without waiting 30 s; few connections per user.
  t = await startTestServer({ limits: { wsHeartbeatMs: 200, wsConnectionsPerUser: 3 } });
});
afterAll(() => t.close());

interface Reply {
  status: number;
  body: {
    code?: string;
    message?: string;
    data?: { zodError?: { fieldErrors?: Record<string, string[]> } | null };
  } & Record<string, unknown>;
}

/** What curl sends: plain JSON, the token as a bearer header. */
async function rest(method: "GET" | "POST", path: string, token?: string, input?: unknown): Promise<Reply> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let url = `${t.url}/api/v1${path}`;
  let body: string | undefined;
  if (method === "GET" && input) {
    url += `?${new URLSearchParams(input as Record<string, string>)}`;
  } else if (method === "POST") {
    headers["content-type"] = "application/json";
    body = JSON.stringify(input ?? {});
  }
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/** What the typed client got, as JSON carries it (dates as ISO strings). */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("the /api/v1 OpenAPI document", () => {
  it("gives every query and mutation of the router a REST door (GET for queries, POST for mutations), and no subscription one", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(document.openapi).toMatch(/^3\.1\./);
    const missing: string[] = [];
    for (const entry of procedureEntries(appRouter)) {
      const door = restDoorOf(entry);
      if (entry.type === "subscription") {
        expect(door, entry.path).toBeNull();
        continue;
      }
      if (!door) {
        missing.push(entry.path);
        continue;
      }
      if (!entry.meta.openapi) expect(door.method).toBe(entry.type === "query" ? "GET" : "POST");
      const operation = document.paths[door.path]?.[door.method.toLowerCase()];
      if (!operation) missing.push(`${entry.path} (${door.method} ${door.path})`);
    }
    expect(missing).toEqual([]);
    expect(Object.keys(document.paths)).toContain("/rooms/{roomId}/events");
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const document = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as Record<string, unknown>;
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe("a REST door answers like its tRPC procedure", () => {
  it("success: chat.rooms.create, chat.messages.send, chat.messages.list and chat.rooms.get", async () => {
    const owner = await signUp(t, "Rest owner");
    const created = await rest("POST", "/chat/rooms/create", owner.token, {
      name: "Over REST",
      isPrivate: false,
    });
    expect(created.status).toBe(200);
    const roomId = String(created.body.id);
    expect(asJson(await owner.api.chat.rooms.get.query({ roomId }))).toEqual(
      (await rest("GET", "/chat/rooms/get", owner.token, { roomId })).body,
    );

    const sent = await rest("POST", "/chat/messages/send", owner.token, {
      roomId,
      content: "hello from curl",
      clientMessageId: randomUUID(),
    });
    expect(sent).toMatchObject({ status: 200, body: { content: "hello from curl", roomId } });
    const viaTrpc = await owner.api.chat.messages.list.query({ roomId, limit: 10 });
    // A number in a query string: coerced as the schema says.
    const viaRest = await rest("GET", "/chat/messages/list", owner.token, { roomId, limit: "10" });
    expect(viaRest.status).toBe(200);
    expect(viaRest.body).toEqual(asJson(viaTrpc));
  });

  it("BAD_REQUEST: the same code, message and field errors as over tRPC, with status 400", async () => {
    const owner = await signUp(t, "Rest invalid");
    const input = { name: "", isPrivate: false };
    const viaTrpc = await rejectionOf(owner.api.chat.rooms.create.mutate(input));
    const viaRest = await rest("POST", "/chat/rooms/create", owner.token, input);
    expect(viaRest.status).toBe(400);
    expect(viaRest.body.code).toBe("BAD_REQUEST");
    expect(viaRest.body.message).toBe(viaTrpc.message);
    expect(viaRest.body.data?.zodError?.fieldErrors).toHaveProperty("name");
  });

  it("a JSON body's types are the caller's: a string is no boolean, over REST as over tRPC, before and after a REST call", async () => {
    const owner = await signUp(t, "Rest strict body");
    const stringly = { name: "Stringly typed", isPrivate: "false" };
    const overRest = await rest("POST", "/chat/rooms/create", owner.token, stringly);
    expect(overRest).toMatchObject({ status: 400, body: { code: "BAD_REQUEST" } });
    expect(overRest.body.message).toMatch(/^isPrivate: /);
    // trpc-to-openapi as published turns every number and boolean of the procedure's shared schema
    // into a coercing one at its first REST call: "false" became a private room over tRPC too.
    const typed = await rest("POST", "/chat/rooms/create", owner.token, { name: "Typed", isPrivate: false });
    expect(typed.status).toBe(200);
    const overTrpc = await rejectionOf(owner.api.chat.rooms.create.mutate(stringly as never));
    expect(overTrpc.code).toBe("BAD_REQUEST");
    const names = (await owner.api.chat.rooms.list.query({})).items.map((room) => room.name);
    expect(names).toContain("Typed");
    expect(names).not.toContain("Stringly typed");
  });

  it("a query string's numbers and booleans are read strictly: `false` is false, `yes`, `1`, `ten` and `0x10` are BAD_REQUEST", async () => {
    const { owner, room } = await roomWith(t, false, "Mentions over REST");
    const bob = await signUp(t, "Rest Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const read = await send(owner.api, room.id, `read @${bob.user.handle}`);
    const unread = await send(owner.api, room.id, `unread @${bob.user.handle}`);
    await bob.api.chat.mentions.markRead.mutate({ messageId: read.id });
    const ids = async (query: Record<string, string>) => {
      const reply = await rest("GET", "/chat/mentions/list", bob.token, query);
      expect(reply.status).toBe(200);
      return (reply.body.items as { message: { id: string } }[]).map((item) => item.message.id);
    };
    expect(await ids({ unreadOnly: "true" })).toEqual([unread.id]);
    expect(await ids({ unreadOnly: "false" })).toEqual([unread.id, read.id]);
    expect(await ids({ unreadOnly: "false", limit: "1" })).toEqual([unread.id]);
    // An empty parameter is one left out, as an HTML form sends an empty field.
    expect(await ids({ unreadOnly: "" })).toEqual([unread.id, read.id]);
    for (const query of [{ unreadOnly: "yes" }, { unreadOnly: "1" }, { limit: "ten" }, { limit: "0x10" }]) {
      const reply = await rest("GET", "/chat/mentions/list", bob.token, query);
      expect(reply, JSON.stringify(query)).toMatchObject({ status: 400, body: { code: "BAD_REQUEST" } });
    }
    // The same procedure over tRPC after those REST calls: still no coercion.
    expect(await codeOf(bob.api.chat.mentions.list.query({ unreadOnly: "false" } as never))).toBe(
      "BAD_REQUEST",
    );
  });

  it("NOT_FOUND for a private room the caller is not in, as over tRPC, with status 404", async () => {
    const { room } = await roomWith(t, true, "Secret");
    const outsider = await signUp(t, "Outsider");
    const viaTrpc = await rejectionOf(outsider.api.chat.rooms.get.query({ roomId: room.id }));
    const viaRest = await rest("GET", "/chat/rooms/get", outsider.token, { roomId: room.id });
    expect(viaTrpc.code).toBe("NOT_FOUND");
    expect(viaRest).toMatchObject({ status: 404, body: { code: "NOT_FOUND", message: viaTrpc.message } });
    const sendInto = await rest("POST", "/chat/messages/send", outsider.token, {
      roomId: room.id,
      content: "let me in",
      clientMessageId: randomUUID(),
    });
    expect(sendInto).toMatchObject({ status: 404, body: { code: "NOT_FOUND" } });
  });

  it("UNAUTHORIZED without a token, as over tRPC, with status 401", async () => {
    const viaTrpc = await rejectionOf(t.client().chat.rooms.list.query({}));
    const viaRest = await rest("GET", "/chat/rooms/list");
    expect(viaRest).toMatchObject({ status: 401, body: { code: "UNAUTHORIZED", message: viaTrpc.message } });
  });

  it("sign-in over REST returns a token that works as a bearer token", async () => {
    const account = await signUp(t, "Rest login");
    const login = await rest("POST", "/auth/login", undefined, {
      email: account.email,
      password: "correct horse battery staple",
    });
    expect(login.status).toBe(200);
    const token = String(login.body.token);
    const me = await rest("GET", "/auth/me", token);
    expect(me).toMatchObject({ status: 200, body: { id: account.user.id } });
  });
});

describe("GET /api/v1/rooms/{roomId}/events (Server-Sent Events)", () => {
  const eventsUrl = (roomId: string, query = "") => `${t.url}/api/v1/rooms/${roomId}/events${query}`;
  const bearer = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...extra,
  });

  it("streams each event with `id: <seq>` and its JSON, and keeps an idle stream alive with comments", async () => {
    const { owner, room } = await roomWith(t, false, "Streamed");
    const stream = await openSse(eventsUrl(room.id), bearer(owner.token));
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const message = await send(owner.api, room.id, "first");
    await stream.until(() => stream.events.length >= 1);
    const [event] = stream.events;
    expect(event?.id).toBe(String(message.seq));
    expect(JSON.parse(event?.data ?? "{}")).toMatchObject({
      type: "message.created",
      seq: message.seq,
      message: { content: "first" },
    });
    await stream.until(() => stream.comments() >= 2);
    stream.close();
  });

  it("resumes after Last-Event-ID (or ?lastEventId=): every later event once, none before", async () => {
    const { owner, room } = await roomWith(t, false, "Resumed");
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await send(owner.api, room.id, `m${i}`));
    const after = String(sent[1]?.seq);
    for (const open of [
      () => openSse(eventsUrl(room.id), bearer(owner.token, { "last-event-id": after })),
      () => openSse(eventsUrl(room.id, `?lastEventId=${after}`), bearer(owner.token)),
    ]) {
      const stream = await open();
      await stream.until(() => stream.events.length >= 3);
      expect(stream.events.map((e) => e.id)).toEqual(sent.slice(2).map((m) => String(m.seq)));
      stream.close();
    }
  });

  it("refuses as chat.events does: 401 without a token, 404 for a private room, 400 for an id past the newest", async () => {
    const { owner, room } = await roomWith(t, true, "Closed");
    const outsider = await signUp(t, "Stream outsider");
    const anonymous = await openSse(eventsUrl(room.id));
    expect(anonymous).toMatchObject({ status: 401, body: { code: "UNAUTHORIZED" } });
    const hidden = await openSse(eventsUrl(room.id), bearer(outsider.token));
    const viaTrpc = await rejectionOf(outsider.api.chat.rooms.get.query({ roomId: room.id }));
    expect(hidden).toMatchObject({ status: 404, body: { code: "NOT_FOUND", message: viaTrpc.message } });
    const past = await openSse(eventsUrl(room.id), bearer(owner.token, { "last-event-id": "999999" }));
    expect(past).toMatchObject({ status: 400, body: { code: "BAD_REQUEST" } });
  });

  it("ends when access ends: a kick, the room turned private, the room deleted, a logout", async () => {
    const { owner, room } = await roomWith(t, false, "Ending");
    const streamOf = async (token: string) => {
      const stream = await openSse(eventsUrl(room.id), bearer(token));
      expect(stream.status).toBe(200);
      return stream;
    };
    const lastError = (stream: Awaited<ReturnType<typeof streamOf>>) =>
      JSON.parse(stream.events.findLast((e) => e.event === "error")?.data ?? "{}") as { code?: string };

    const kicked = await signUp(t, "Kicked");
    await kicked.api.chat.rooms.join.mutate({ roomId: room.id });
    const kickedStream = await streamOf(kicked.token);
    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: kicked.user.id });
    await kickedStream.ended();
    expect(lastError(kickedStream).code).toBe("FORBIDDEN");

    const reader = await signUp(t, "Public reader");
    const readerStream = await streamOf(reader.token);
    const loggedOut = await signUp(t, "Logged out");
    await loggedOut.api.chat.rooms.join.mutate({ roomId: room.id });
    const loggedOutStream = await streamOf(loggedOut.token);
    await loggedOut.api.auth.logout.mutate();
    await loggedOutStream.ended();
    expect(lastError(loggedOutStream).code).toBe("UNAUTHORIZED");

    const member = await signUp(t, "Member");
    await member.api.chat.rooms.join.mutate({ roomId: room.id });
    const memberStream = await streamOf(member.token);
    await owner.api.chat.rooms.update.mutate({ roomId: room.id, isPrivate: true });
    await readerStream.ended();
    expect(lastError(readerStream).code).toMatch(/FORBIDDEN|NOT_FOUND/);
    expect(memberStream.events.some((e) => e.event === "error")).toBe(false);

    await owner.api.chat.rooms.delete.mutate({ roomId: room.id });
    await memberStream.ended();
    expect(lastError(memberStream).code).toMatch(/FORBIDDEN|NOT_FOUND/);
  });

  it("counts toward the user's connections like a WebSocket: past the cap, 429 and nothing opened", async () => {
    const { owner, room } = await roomWith(t, false, "Capped");
    const streams = [];
    for (let i = 0; i < 3; i++) {
      const stream = await openSse(eventsUrl(room.id), bearer(owner.token));
      expect(stream.status).toBe(200);
      streams.push(stream);
    }
    const refused = await openSse(eventsUrl(room.id), bearer(owner.token));
    expect(refused).toMatchObject({ status: 429, body: { code: "TOO_MANY_REQUESTS" } });
    for (const stream of streams) stream.close();
  });
});

describe("SSE streams and the server's lifetime", () => {
  it("a stream ends at the keep-alive once its session reaches its absolute lifetime, as HTTP refuses it", async () => {
    const HOUR = 60 * 60 * 1000;
    let now = Date.now();
    await using clocked = await startTestServer({
      clock: () => new Date(now),
      limits: { sessionAbsoluteMs: HOUR, wsHeartbeatMs: 100 },
    });
    const { owner, room } = await roomWith(clocked, false, "Lifetime");
    const stream = await openSse(`${clocked.url}/api/v1/rooms/${room.id}/events`, {
      authorization: `Bearer ${owner.token}`,
    });
    expect(stream.status).toBe(200);
    await stream.until(() => stream.comments() >= 1);
    now += HOUR + 1;
    await stream.ended();
    const last = stream.events.at(-1);
    expect(last?.event).toBe("error");
    expect(JSON.parse(last?.data ?? "{}")).toMatchObject({ code: "UNAUTHORIZED" });
    expect(await clocked.client(owner.token).auth.me.query()).toBeNull();
  });

  it("closing the server ends its streams at once (their clients resume elsewhere), not after the drain's grace", async () => {
    const closing = await startTestServer({ limits: { shutdownGraceMs: 60_000 } });
    const { owner, room } = await roomWith(closing, false, "Shutdown");
    const stream = await openSse(`${closing.url}/api/v1/rooms/${room.id}/events`, {
      authorization: `Bearer ${owner.token}`,
    });
    expect(stream.status).toBe(200);
    const started = performance.now();
    await closing.close();
    await stream.ended();
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});
