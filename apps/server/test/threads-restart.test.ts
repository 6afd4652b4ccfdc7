import { randomUUID } from "node:crypto";
import { createParleyClient, type ParleyClient, type RoomEvent } from "@parley/client";
import { type SignedUp, signUpAt } from "@parley/testing/accounts";
import { collectRoomEvents } from "@parley/testing/event-collector";
import type { ServerProcess } from "@parley/testing/server-process";
import { type ServerRelay, serverRelay } from "@parley/testing/server-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

// Real server processes on one database: the first is killed with SIGKILL mid-stream (no shutdown
// code runs), a second takes over, and the client resumes on it from the last event it saw.
let relay: ServerRelay | undefined;

beforeAll(async () => {
  relay = await serverRelay();
});
afterAll(() => relay?.close());

async function startServer() {
  if (!relay) throw new Error("the relay did not start");
  return relay.start();
}

const on = (server: ServerProcess, account: SignedUp): ParleyClient =>
  createParleyClient({ url: server.url, token: account.token, WebSocket });

type Created = Extract<RoomEvent, { type: "message.created" }>;
type ThreadUpdated = Extract<RoomEvent, { type: "thread.updated" }>;

describe("threads across a server crash", () => {
  it("replies and thread counters, with the server killed with SIGKILL mid-stream and restarted: resuming with lastEventId loses nothing and doubles nothing, and the reply retried after the crash counts once", async () => {
    const first = await startServer();
    const owner = await signUpAt(first.url, "Owner");
    const replier = await signUpAt(first.url, "Replier");
    const room = await owner.api.chat.rooms.create.mutate({ name: "Crash", isPrivate: false });
    await replier.api.chat.rooms.join.mutate({ roomId: room.id });
    const root = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "root",
      clientMessageId: randomUUID(),
    });

    // Even numbers are replies in the thread, odd ones top-level messages: both on one stream.
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const sendNumber = (server: ServerProcess, i: number) =>
      i % 2 === 0
        ? on(server, replier).chat.messages.send.mutate({
            roomId: room.id,
            content: `n${i}`,
            clientMessageId: ids[i] ?? "",
            parentId: root.id,
          })
        : on(server, owner).chat.messages.send.mutate({
            roomId: room.id,
            content: `n${i}`,
            clientMessageId: ids[i] ?? "",
          });
    const created = (items: RoomEvent[], content: string) =>
      items.some((e) => e.type === "message.created" && e.message.content === content);

    const before = collectRoomEvents(on(first, owner), room.id, String(root.seq));
    await before.started();
    for (let i = 0; i < 20; i++) await sendNumber(first, i);
    await before.until(() => created(before.items, "n19"));
    // Killed while a reply is in flight: it may or may not have committed.
    const inFlight = sendNumber(first, 20).then(
      () => "acknowledged",
      () => "lost with the server",
    );
    await first.kill();
    before.unsubscribe();
    await inFlight;

    const second = await startServer();
    // The client retries what it was not sure of, with the same clientMessageId: the reply in
    // flight, and one acknowledged before the crash, which must come back as it was.
    const acknowledged = await sendNumber(second, 18);
    expect(acknowledged).toMatchObject({ content: "n18", parentId: root.id });
    expect(acknowledged.seq).toBeLessThan(Number(before.lastId()));
    for (let i = 20; i < 40; i++) await sendNumber(second, i);
    const after = collectRoomEvents(on(second, owner), room.id, before.lastId());
    await after.until(() => created(after.items, "n39"));
    after.unsubscribe();

    const all = [...before.items, ...after.items];
    const seqs = all.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => root.seq + 1 + i));
    const messages = all.filter((e): e is Created => e.type === "message.created").map((e) => e.message);
    expect(messages.map((m) => m.content)).toEqual(Array.from({ length: 40 }, (_, i) => `n${i}`));
    expect(messages.map((m) => m.parentId)).toEqual(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? root.id : null)),
    );
    const updates = all.filter((e): e is ThreadUpdated => e.type === "thread.updated");
    expect(updates.map((e) => e.replyCount)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(all).toHaveLength(60);

    const api = on(second, owner);
    const thread = await api.chat.threads.list.query({ threadId: root.id, limit: 100 });
    expect(thread.root).toMatchObject({ replyCount: 20, lastReplyAt: messages.at(-2)?.createdAt });
    expect(thread.items.map((m) => m.content).reverse()).toEqual(
      Array.from({ length: 20 }, (_, i) => `n${2 * i}`),
    );
    const history = await api.chat.messages.list.query({ roomId: room.id, limit: 100 });
    expect(history.items.map((m) => m.content).reverse()).toEqual([
      "root",
      ...Array.from({ length: 20 }, (_, i) => `n${2 * i + 1}`),
    ]);
  });
});
