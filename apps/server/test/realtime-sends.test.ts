import { randomUUID } from "node:crypto";
import { createParleyClient, REALTIME_PATHS } from "@parley/client";
import { codeOf, roomWith, signUp, storedMessages } from "@parley/testing/chat-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// @parley/client's `realtimeSends`: chat calls over the WebSocket. The same procedures, so the
// same checks must hold there as over HTTP; these tests watch which transport carried each call.

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ rateLimits: { send: { points: 5, durationSeconds: 60 } } });
});
afterAll(() => t.close());

/** A client with realtimeSends whose HTTP requests are counted by path. */
function realtimeClient(token: string) {
  const httpCalls: string[] = [];
  const api = createParleyClient({
    url: t.url,
    token,
    WebSocket,
    realtimeSends: true,
    fetch: (input, init) => {
      httpCalls.push(new URL(String(input)).pathname);
      return fetch(input, init);
    },
  });
  return { api, httpCalls };
}

const send = (api: ReturnType<typeof realtimeClient>["api"], roomId: string, content: string) =>
  api.chat.messages.send.mutate({ roomId, content, clientMessageId: randomUUID() });

describe("realtimeSends", () => {
  it("carries chat sends, edits, reactions and read markers over the WebSocket, the rest over HTTP", async () => {
    const { owner, room } = await roomWith(t, false);
    const { api, httpCalls } = realtimeClient(owner.token);
    const message = await send(api, room.id, "over the socket");
    await api.chat.messages.edit.mutate({ messageId: message.id, content: "edited" });
    await api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    await api.chat.rooms.markRead.mutate({ roomId: room.id, seq: message.seq });
    expect(httpCalls).toEqual([]);
    const me = await api.auth.me.query();
    expect(me?.id).toBe(owner.user.id);
    expect(httpCalls).toEqual(["/trpc/auth.me"]);
    const [stored] = (await storedMessages(t, room.id)).filter((m) => m.id === message.id);
    expect(stored?.content).toBe("edited");
    expect(REALTIME_PATHS.has("auth.login")).toBe(false);
  });

  it("keeps every check over the socket: outsiders, bad input, anonymous callers, the send limit", async () => {
    const { room } = await roomWith(t, true);
    const outsider = await signUp(t, "Outsider");
    const { api: outsiderApi } = realtimeClient(outsider.token);
    expect(await codeOf(send(outsiderApi, room.id, "let me in"))).toBe("NOT_FOUND");

    const { owner, room: open } = await roomWith(t, false);
    const { api } = realtimeClient(owner.token);
    expect(await codeOf(send(api, open.id, "   "))).toBe("BAD_REQUEST");
    const anonymous = createParleyClient({ url: t.url, WebSocket, realtimeSends: true });
    expect(await codeOf(send(anonymous, open.id, "who am I"))).toBe("UNAUTHORIZED");

    for (let i = 0; i < 5; i++) await send(api, open.id, `m${i}`);
    expect(await codeOf(send(api, open.id, "one too many"))).toBe("TOO_MANY_REQUESTS");
    expect(await storedMessages(t, open.id)).toHaveLength(5);
    expect(await storedMessages(t, room.id)).toHaveLength(0);
  });

  it("stops sending for a session that logged out elsewhere", async () => {
    const { owner, room } = await roomWith(t, false);
    const { api } = realtimeClient(owner.token);
    await send(api, room.id, "before");
    await owner.api.auth.logout.mutate();
    // The revoked socket is closed; the client reconnects with the dead token and is anonymous.
    expect(await codeOf(send(api, room.id, "after"))).toBe("UNAUTHORIZED");
    expect((await storedMessages(t, room.id)).map((m) => m.content)).toEqual(["before"]);
  });

  it("writes a call on an open socket before any timer runs, and the calls of one tick in one frame", async () => {
    const { owner, room } = await roomWith(t, false);
    const frames: string[] = [];
    // ws's own class, recording what the client writes (patches/@trpc__client: tRPC's client
    // waited for setTimeout(0), at least 1 ms, before each write).
    class RecordingSocket extends WebSocket {
      override send(data: Parameters<WebSocket["send"]>[0], ...rest: unknown[]) {
        frames.push(String(data));
        return (super.send as (...args: unknown[]) => void)(data, ...rest);
      }
    }
    const api = createParleyClient({
      url: t.url,
      token: owner.token,
      WebSocket: RecordingSocket,
      realtimeSends: true,
    });
    await send(api, room.id, "opens the socket");
    const written = frames.length;
    const one = send(api, room.id, "one");
    // A setImmediate callback runs before the next turn's timers: a call waiting for a timer has
    // not been written yet.
    await new Promise((resolve) => setImmediate(resolve));
    expect(frames.length).toBe(written + 1);
    await one;

    const pair = [send(api, room.id, "two"), send(api, room.id, "three")];
    await new Promise((resolve) => setImmediate(resolve));
    expect(frames.length).toBe(written + 2);
    const batch: unknown = JSON.parse(frames.at(-1) ?? "null");
    expect(Array.isArray(batch) && batch.length).toBe(2);
    await Promise.all(pair);
    // The two calls of one frame run concurrently on the server: either may take the lower seq.
    const stored = (await storedMessages(t, room.id)).map((m) => m.content);
    expect(stored.slice(0, 2)).toEqual(["opens the socket", "one"]);
    expect(stored.slice(2).sort()).toEqual(["three", "two"]);
  });
});
