import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { type GuardedSocket, guardedSocketClass, textFrame } from "../src/realtime/guarded-socket.ts";

// The push path's socket (src/realtime/guarded-socket.ts) on a bare ws server: what reaches the
// wire, in what order, with how many writes to the kernel.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A server socket and its client, and a count of the writes the server's TCP stream makes. */
async function connectedPair() {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, WebSocket: guardedSocketClass(1024 * 1024) });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  const accepted = once(wss, "connection") as Promise<[GuardedSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const received: string[] = [];
  client.on("message", (data) => received.push(String(data)));
  const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
  await once(client, "open");
  const [server] = await accepted;
  // Each call of _write or _writev is one write to the kernel (writev for a corked batch).
  const tcp = (server as unknown as { _socket: Record<"_write" | "_writev", (...args: unknown[]) => void> })
    ._socket;
  const writes = { single: 0, vectored: 0 };
  const write = tcp._write.bind(tcp);
  const writev = tcp._writev.bind(tcp);
  tcp._write = (...args) => {
    writes.single++;
    write(...args);
  };
  tcp._writev = (...args) => {
    writes.vectored++;
    writev(...args);
  };
  cleanups.push(async () => {
    client.terminate();
    wss.close();
    http.close();
  });
  const until = async (count: number) => {
    while (received.length < count) await once(client, "message");
  };
  return { server, client, received, closed, writes, until };
}

const frame = (text: string) => textFrame("", Buffer.from(text));

describe("GuardedSocket.sendFrame", () => {
  it("writes the frames of one turn of the event loop to the kernel at once, in order", async () => {
    const { server, received, writes, until } = await connectedPair();
    for (let i = 1; i <= 5; i++) server.sendFrame(frame(`event ${i}`));
    // Nothing is written before the turn ends.
    expect(writes).toEqual({ single: 0, vectored: 0 });
    await until(5);
    expect(received).toEqual(["event 1", "event 2", "event 3", "event 4", "event 5"]);
    expect(writes).toEqual({ single: 0, vectored: 1 });

    server.sendFrame(frame("event 6"));
    await until(6);
    expect(writes).toEqual({ single: 1, vectored: 1 });
  });

  it("writes the waiting frames before anything sent or closed after them on the socket", async () => {
    const { server, received, closed, until } = await connectedPair();
    server.sendFrame(frame("event 1"));
    server.sendFrame(frame("event 2"));
    server.send("a response sent after the events");
    server.sendFrame(frame("event 3"));
    server.close(4000, "done");
    await until(4);
    expect(received).toEqual(["event 1", "event 2", "a response sent after the events", "event 3"]);
    expect(await closed).toBe(4000);
  });
});

describe("GuardedSocket.onClosed", () => {
  it("tells every listener it was given once when the socket closes, after the close listeners, without adding one for the first", async () => {
    const { server, client } = await connectedPair();
    const told: string[] = [];
    const listenersBefore = server.listenerCount("close");
    server.onClosed({ socketClosed: () => told.push("first") });
    expect(server.listenerCount("close")).toBe(listenersBefore);
    server.onClosed({ socketClosed: () => told.push("second") });
    server.on("close", () => told.push("listener"));
    const closed = once(server, "close");
    client.close();
    await closed;
    // The second is a plain listener, in the order it was added; the first comes after them all.
    expect(told).toEqual(["second", "listener", "first"]);
  });
});
