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
});
