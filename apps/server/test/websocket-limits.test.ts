import { once } from "node:events";
import { createFixtureRouter, runningWhen } from "@parley/testing/fixture-router";
import { openRawSocket, parseServerMessage, type RawSocket } from "@parley/testing/raw-socket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const MiB = 1024 * 1024;
const { router, probe } = createFixtureRouter();
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ router });
});
afterAll(() => t.close());

function subscribeFrame(id: number, path: string) {
  return { id, method: "subscription", params: { path, input: { json: null } } };
}

/** A bystander proves the server still serves others: a query answers over its own socket. */
async function bystanderAnswers(socket: RawSocket) {
  const reply = await socket.call("query", "auth.me");
  expect(reply.result?.data?.json).toBeNull();
}

describe("WebSocket limits", () => {
  it("closes a socket that sends one frame of 10,000 subscribe messages, keeps memory bounded, and serves others", async () => {
    const bystander = await openRawSocket(t.url);
    const attacker = await openRawSocket(t.url);
    const rssBefore = process.memoryUsage().rss;
    const frame = JSON.stringify(
      Array.from({ length: 10_000 }, (_, i) => subscribeFrame(i + 1, "fixture.idle")),
    );
    attacker.sendRaw(frame);
    // 10,000 messages do not fit in the 64 KiB frame limit: ws closes with 1009 (message too big).
    expect(await attacker.closed).toBe(1009);
    expect(probe.running).toBe(0);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MiB);
    await bystanderAnswers(bystander);
    bystander.close();
  });

  it("refuses a batch frame of more than 50 calls within the frame limit, opening none of them", async () => {
    const socket = await openRawSocket(t.url);
    const replies: unknown[] = [];
    socket.socket.on("message", (data) => replies.push(...(parseServerMessage(data) ?? [])));
    const frame = Array.from({ length: 51 }, (_, i) => ({
      id: i + 1,
      method: "subscription",
      params: { path: "fixture.idle" },
    }));
    socket.sendRaw(JSON.stringify(frame));
    while (replies.length < 51) await once(socket.socket, "message");
    expect(JSON.stringify(replies)).toContain("Batch call exceeds maximum size");
    expect(probe.running).toBe(0);
    socket.close();
  });

  it("caps live subscriptions at 100 per connection even when 10,000 arrive in separate frames", async () => {
    const socket = await openRawSocket(t.url);
    let refused = 0;
    socket.socket.on("message", (data) => {
      for (const message of parseServerMessage(data) ?? []) {
        if (message.error?.data?.code === "TOO_MANY_REQUESTS") refused++;
      }
    });
    for (let i = 1; i <= 10_000; i++) socket.sendRaw(JSON.stringify(subscribeFrame(i, "fixture.idle")));
    while (refused < 9_900) await once(socket.socket, "message");
    expect(refused).toBe(9_900);
    expect(probe.running).toBe(100);
    socket.close();
    await runningWhen(probe, (n) => n === 0);
  });

  it("closes a socket that sends a 1 MB message, and serves others", async () => {
    const bystander = await openRawSocket(t.url);
    const sender = await openRawSocket(t.url);
    sender.sendRaw(
      JSON.stringify({
        id: 1,
        method: "query",
        params: { path: "auth.me", input: { json: "a".repeat(MiB) } },
      }),
    );
    expect(await sender.closed).toBe(1009);
    await bystanderAnswers(bystander);
    bystander.close();
  });

  it("cuts off a client that stops reading while events flow; memory stays bounded and readers keep receiving", async () => {
    const reader = await openRawSocket(t.url);
    let readerEvents = 0;
    reader.socket.on("message", () => readerEvents++);
    reader.sendRaw(JSON.stringify(subscribeFrame(1, "fixture.flood")));

    const slow = await openRawSocket(t.url);
    slow.sendRaw(JSON.stringify(subscribeFrame(1, "fixture.flood")));
    await runningWhen(probe, (n) => n === 2);
    const rssBefore = process.memoryUsage().rss;
    // Stop reading from the TCP socket: the kernel buffers fill, then the server's queue grows.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();

    await once(probe, "ended");
    expect(probe.running).toBe(1);
    const growth = process.memoryUsage().rss - rssBefore;
    expect(growth).toBeLessThan(100 * MiB);

    const before = readerEvents;
    while (readerEvents < before + 100) await once(reader.socket, "message");
    await bystanderAnswers(reader);
    reader.close();
    await runningWhen(probe, (n) => n === 0);
  });

  it("pings every socket and drops the one that stopped answering, keeping the one that answers", async () => {
    await using quick = await startTestServer({ limits: { wsHeartbeatMs: 100 } });
    const url = `${quick.url.replace(/^http/, "ws")}/trpc`;
    const silent = new WebSocket(url, { autoPong: false });
    const healthy = new WebSocket(url);
    let pingsAnswered = 0;
    healthy.on("ping", () => pingsAnswered++);
    await Promise.all([once(silent, "open"), once(healthy, "open")]);
    const [code] = await once(silent, "close");
    // Dropped at the sweep after an unanswered ping: a terminate, not a close handshake.
    expect(code).toBe(1006);
    expect(pingsAnswered).toBeGreaterThanOrEqual(1);
    expect(healthy.readyState).toBe(WebSocket.OPEN);
    healthy.close();
  });

  it("spreads each heartbeat's pings over its interval instead of pinging every socket in one pass", async () => {
    // 600 ms: ten ticks of 60 ms, three of the 30 sockets each.
    await using slow = await startTestServer({ limits: { wsHeartbeatMs: 600 } });
    const url = `${slow.url.replace(/^http/, "ws")}/trpc`;
    const sockets = Array.from({ length: 30 }, () => new WebSocket(url));
    await Promise.all(sockets.map((ws) => once(ws, "open")));
    const firstPings = await Promise.all(
      sockets.map(async (ws) => {
        await once(ws, "ping");
        return performance.now();
      }),
    );
    // In one pass the 30 pings arrive within a few milliseconds; in slices, over most of the interval.
    expect(Math.max(...firstPings) - Math.min(...firstPings)).toBeGreaterThanOrEqual(300);
    for (const ws of sockets) expect(ws.readyState).toBe(WebSocket.OPEN);
    for (const ws of sockets) ws.close();
  });
});
