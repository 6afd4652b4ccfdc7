import { roomWith, send } from "@parley/testing/chat-fixtures";
import { openRawSocket } from "@parley/testing/raw-socket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { GuardedSocket } from "../src/realtime/guarded-socket.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// An idle socket holding only chat.events carries none of tRPC's per-connection state (ws-server.ts
// attaches tRPC's adapter at the first event the push path does not take): these tests pin that it
// is so, and that everything else on such a socket is answered as tRPC's adapter answers it.

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** The server's side of the socket opened last. */
function newestServerSocket(): GuardedSocket {
  const sockets = [...t.server.webSocketServer.clients] as GuardedSocket[];
  const last = sockets.at(-1);
  if (!last) throw new Error("no socket open on the server");
  return last;
}

describe("idle WebSocket sockets", () => {
  it("a socket holding only a chat.events subscription keeps neither tRPC's adapter state nor its upgrade request; its first other call is answered, and its events still arrive once", async () => {
    const { owner, room } = await roomWith(t, false);
    const socket = await openRawSocket(t.url, { token: owner.token });
    const started = await socket.call("subscription", "chat.events", { roomId: room.id });
    expect(started.result?.type).toBe("started");
    const server = newestServerSocket();
    expect(server.trpcAttached).toBe(false);
    expect(server.upgrade).toBeNull();

    const me = await socket.call("query", "auth.me");
    expect((me.result?.data?.json as { id?: string } | null)?.id).toBe(owner.user.id);
    expect(server.trpcAttached).toBe(true);

    const message = await send(owner.api, room.id, "after the adapter came");
    const event = await socket.next(
      (m) => m.result?.type === "data" && JSON.stringify(m.result.data).includes(message.id),
    );
    expect(event).toBeDefined();
    await send(owner.api, room.id, "barrier");
    await socket.next((m) => m.result?.type === "data" && JSON.stringify(m.result.data).includes("barrier"));
    const copies = socket.received.filter(
      (m) => m.result?.type === "data" && JSON.stringify(m.result.data).includes(message.id),
    );
    expect(copies).toHaveLength(1);
    socket.close();
  });

  it("a subscribed, signed-in socket has one close listener, ws's own; closing it still ends its subscriptions and frees its place under the per-user cap", async () => {
    const { owner, room } = await roomWith(t, false);
    const fanout = t.server.deps.roomFanout;
    const before = fanout.activeRooms();
    const sockets = [];
    // Five is the per-user cap: the sixth below is served only if a closed one was untracked.
    for (let i = 0; i < 5; i++) {
      const socket = await openRawSocket(t.url, { token: owner.token });
      expect((await socket.call("subscription", "chat.events", { roomId: room.id })).result?.type).toBe(
        "started",
      );
      sockets.push(socket);
    }
    const server = newestServerSocket();
    // The session's tracking and the push subscriptions end through the socket itself
    // (guarded-socket.ts): a second listener costs a listener array and a once() wrapper.
    expect(server.listenerCount("close")).toBe(1);
    expect(fanout.activeRooms()).toBe(before + 1);

    for (const socket of sockets) {
      socket.close();
      await socket.closed;
    }
    await expect.poll(() => fanout.activeRooms()).toBe(before);
    const replacement = await openRawSocket(t.url, { token: owner.token });
    expect((await replacement.call("query", "auth.me")).result?.type).toBe("data");
    replacement.close();
  });

  it("answers tRPC's PING with PONG before and after connectionParams, without attaching the adapter", async () => {
    const { owner } = await roomWith(t, false);
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/trpc?connectionParams=1`);
    const texts: string[] = [];
    ws.on("message", (data) => texts.push(String(data)));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const pong = () =>
      new Promise<void>((resolve) => {
        const before = texts.filter((x) => x === "PONG").length;
        const check = () => {
          if (texts.filter((x) => x === "PONG").length > before) resolve();
          else ws.once("message", check);
        };
        ws.once("message", check);
        ws.send("PING");
      });
    await pong();
    ws.send(JSON.stringify({ method: "connectionParams", data: { token: owner.token } }));
    await pong();
    expect(newestServerSocket().trpcAttached).toBe(false);
    expect(texts.every((x) => x === "PONG")).toBe(true);
    ws.close();
  });

  it("a malformed connectionParams message is answered by tRPC's adapter with PARSE_ERROR, then the socket closes", async () => {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/trpc?connectionParams=1`);
    const texts: string[] = [];
    ws.on("message", (data) => texts.push(String(data)));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ method: "connectionParams", data: { token: 42 } }));
    await closed;
    expect(texts).toHaveLength(1);
    const reply = JSON.parse(texts[0] ?? "{}") as {
      id: unknown;
      error?: { json?: { data?: { code?: string } } };
    };
    expect(reply.id).toBeNull();
    expect(reply.error?.json?.data?.code).toBe("PARSE_ERROR");
  });

  it("a socket whose upgrade named a Host that is no URL is closed (1008) when tRPC's adapter attaches, and the server goes on serving", async () => {
    // tRPC's adapter reads the upgrade's Host when it attaches (createURL): with `?connectionParams=1`
    // that is at the socket's first message, no longer at the upgrade.
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/trpc?connectionParams=1`, {
      headers: { host: "not a host" },
    });
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ method: "connectionParams", data: { token: 42 } }));
    expect(await closed).toBe(1008);
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
  });
});
