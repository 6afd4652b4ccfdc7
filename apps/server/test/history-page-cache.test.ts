import { randomUUID } from "node:crypto";
import { createParleyClient } from "@parley/client";
import { historyVersion } from "@parley/db";
import { codeOf, roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { type RedisServer, startRedisServer } from "@parley/testing/redis-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// The newest page of a room's history is kept per caller (packages/core history-page-cache.ts)
// and served again while a fresh read of its version (the room's last seq, the caller's blocks)
// finds it unchanged. Each test reads a page once so that it is cached, changes something, and
// reads again: the second read must show the change at once.

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

type Url = { url: string };

/** The newest page as the wire carries it, through the GET path @parley/client uses. */
async function rawPage(server: Url, token: string, input: Record<string, unknown>) {
  const query = `input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const response = await fetch(`${server.url}/trpc/chat.messages.list?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: await response.text() };
}

const pageOf = (server: Url, token: string, roomId: string) =>
  createParleyClient({ url: server.url, token, WebSocket }).chat.messages.list.query({ roomId });

const cachedPages = (server: TestServer) => server.server.deps.historyPages?.size ?? 0;

describe("the cached newest page of history", () => {
  it("is served with the same bytes as a page read from the database", async () => {
    const { owner, room } = await roomWith(t, false);
    let last = 0;
    for (let i = 0; i < 3; i++) last = (await send(owner.api, room.id, `line ${i} "é" \\ 😀`)).seq;
    const before = cachedPages(t);
    const first = await rawPage(t, owner.token, { roomId: room.id });
    expect(cachedPages(t)).toBe(before + 1);
    const second = await rawPage(t, owner.token, { roomId: room.id });
    // The same page by `before`, which is never cached: read from the database every time.
    const uncached = await rawPage(t, owner.token, { roomId: room.id, before: last + 1 });
    expect(cachedPages(t)).toBe(before + 1);
    expect(first.status).toBe(200);
    expect(second).toEqual(first);
    expect(uncached).toEqual(first);
    expect(JSON.parse(first.body).result.data.json.items).toHaveLength(3);
  });

  it("shows a send, a thread reply, an edit, a reaction, its removal and a delete at the next read", async () => {
    const { owner, room } = await roomWith(t, false);
    const reader = await signUp(t, "Reader");
    await reader.api.chat.rooms.join.mutate({ roomId: room.id });
    const read = () => pageOf(t, reader.token, room.id);
    const first = await send(owner.api, room.id, "first");
    expect((await read()).items.map((m) => m.content)).toEqual(["first"]);

    const second = await send(owner.api, room.id, "second");
    expect((await read()).items.map((m) => m.content)).toEqual(["second", "first"]);

    await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "a reply",
      clientMessageId: randomUUID(),
      parentId: first.id,
    });
    expect((await read()).items.map((m) => [m.content, m.replyCount])).toEqual([
      ["second", 0],
      ["first", 1],
    ]);

    await owner.api.chat.messages.edit.mutate({ messageId: second.id, content: "second, edited" });
    const edited = await read();
    expect(edited.items[0]).toMatchObject({ content: "second, edited", editedAt: expect.any(String) });

    await owner.api.chat.messages.react.mutate({ messageId: second.id, emoji: "👍" });
    expect((await read()).items[0]?.reactions).toEqual([{ emoji: "👍", count: 1, mine: false }]);
    await reader.api.chat.messages.react.mutate({ messageId: second.id, emoji: "👍" });
    expect((await read()).items[0]?.reactions).toEqual([{ emoji: "👍", count: 2, mine: true }]);
    // The owner's own page says the same count, with the owner's `mine`.
    expect((await pageOf(t, owner.token, room.id)).items[0]?.reactions).toEqual([
      { emoji: "👍", count: 2, mine: true },
    ]);
    await reader.api.chat.messages.unreact.mutate({ messageId: second.id, emoji: "👍" });
    expect((await read()).items[0]?.reactions).toEqual([{ emoji: "👍", count: 1, mine: false }]);

    await owner.api.chat.messages.delete.mutate({ messageId: second.id });
    expect((await read()).items[0]).toMatchObject({
      id: second.id,
      content: null,
      deletedAt: expect.any(String),
    });
  });

  it("hides an author from the caller who blocks them at the next read, and shows them again once unblocked", async () => {
    const { owner, room } = await roomWith(t, false);
    const reader = await signUp(t, "Blocker");
    await reader.api.chat.rooms.join.mutate({ roomId: room.id });
    await send(owner.api, room.id, "from the owner");
    await send(reader.api, room.id, "from the reader");
    const authors = async () => (await pageOf(t, reader.token, room.id)).items.map((m) => m.content);
    expect(await authors()).toEqual(["from the reader", "from the owner"]);

    await reader.api.chat.blocks.block.mutate({ userId: owner.user.id });
    expect(await authors()).toEqual(["from the reader"]);
    // The owner's own page is not the blocker's.
    expect((await pageOf(t, owner.token, room.id)).items).toHaveLength(2);
    await reader.api.chat.blocks.unblock.mutate({ userId: owner.user.id });
    expect(await authors()).toEqual(["from the reader", "from the owner"]);
  });

  it("has a new version after a block is lifted and made again, though the set of blocked users is the same", async () => {
    // A page read between the unblock and the block again shows the author; stored under a
    // version equal to the one before, it would be served to the blocker afterwards.
    const { owner, room } = await roomWith(t, false);
    const reader = await signUp(t, "Reblocker");
    const versionNow = () =>
      historyVersion(t.server.deps.db, { roomId: room.id, callerId: reader.user.id, admin: false });
    await reader.api.chat.blocks.block.mutate({ userId: owner.user.id });
    const blocked = await versionNow();
    await reader.api.chat.blocks.unblock.mutate({ userId: owner.user.id });
    await reader.api.chat.blocks.block.mutate({ userId: owner.user.id });
    const blockedAgain = await versionNow();
    expect(blocked?.lastSeq).toBe(blockedAgain?.lastSeq);
    expect(blockedAgain?.blocked).toContain(owner.user.id);
    expect(blockedAgain?.blocked).not.toBe(blocked?.blocked);
  });

  it("is NOT_FOUND for a caller who left or was kicked from a private room, right after reading it", async () => {
    const { owner, room } = await roomWith(t, true);
    const leaver = await signUp(t, "Leaver");
    const kicked = await signUp(t, "Kicked");
    for (const user of [leaver, kicked]) {
      await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: user.user.id });
    }
    await send(owner.api, room.id, "members only");
    for (const user of [leaver, kicked]) {
      expect((await pageOf(t, user.token, room.id)).items).toHaveLength(1);
      expect((await rawPage(t, user.token, { roomId: room.id })).status).toBe(200);
    }

    await leaver.api.chat.rooms.leave.mutate({ roomId: room.id });
    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: kicked.user.id });
    for (const user of [leaver, kicked]) {
      expect(await codeOf(pageOf(t, user.token, room.id))).toBe("NOT_FOUND");
      expect((await rawPage(t, user.token, { roomId: room.id })).status).toBe(404);
    }
  });
});

describe("the cached newest page across two instances on one PostgreSQL and one Redis", () => {
  let redis: RedisServer;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    redis = await startRedisServer();
    a = await startTestServer({ redisUrl: redis.url });
    b = await startTestServer({ redisUrl: redis.url, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.destroy();
  });

  it("shows on B, at the next read, what A wrote after B cached the page", async () => {
    const { owner, room } = await roomWith(a, false);
    const reader = await signUp(a, "Reader on B");
    await reader.api.chat.rooms.join.mutate({ roomId: room.id });
    const onA = createParleyClient({ url: a.url, token: owner.token, WebSocket });
    const readOnB = () => pageOf(b, reader.token, room.id);
    const message = await send(onA, room.id, "one");
    expect((await readOnB()).items.map((m) => m.content)).toEqual(["one"]);
    expect(cachedPages(b)).toBeGreaterThan(0);

    // Each read on B follows the write on A at once: no message over Redis is waited for.
    await send(onA, room.id, "two");
    expect((await readOnB()).items.map((m) => m.content)).toEqual(["two", "one"]);
    await onA.chat.messages.edit.mutate({ messageId: message.id, content: "one, edited" });
    expect((await readOnB()).items.map((m) => m.content)).toEqual(["two", "one, edited"]);
    await onA.chat.messages.react.mutate({ messageId: message.id, emoji: "🎉" });
    expect((await readOnB()).items[1]?.reactions).toEqual([{ emoji: "🎉", count: 1, mine: false }]);
    await onA.chat.messages.delete.mutate({ messageId: message.id });
    expect((await readOnB()).items[1]).toMatchObject({ content: null, deletedAt: expect.any(String) });
    await onA.chat.rooms.update.mutate({ roomId: room.id, isPrivate: true });
    await onA.chat.rooms.kick.mutate({ roomId: room.id, userId: reader.user.id });
    expect(await codeOf(readOnB())).toBe("NOT_FOUND");
  });
});
