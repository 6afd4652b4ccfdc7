import { randomUUID } from "node:crypto";
import type { ParleyClient } from "@parley/client";
import {
  codeOf,
  errorOf,
  every,
  fieldErrorsOf,
  type Message,
  makeAdmin,
  must,
  outcomes,
  roomWith,
  send,
  setRoomRole,
  signUp,
  storedMessages,
  uniqueWord,
} from "@parley/testing/chat-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** A room with its owner and a second member, Bob. */
async function roomWithBob(isPrivate = false) {
  const { owner, room } = await roomWith(t, isPrivate);
  const bob = await signUp(t, "Bob");
  if (isPrivate) await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
  else await bob.api.chat.rooms.join.mutate({ roomId: room.id });
  return { owner, room, bob };
}

async function listAll(api: ParleyClient, roomId: string) {
  return (await api.chat.messages.list.query({ roomId, limit: 100 })).items;
}

describe("access rules shared by every chat procedure", () => {
  it("anonymous callers get UNAUTHORIZED from every message procedure and from typing", async () => {
    const { owner, room } = await roomWith(t, false);
    const message = await send(owner.api, room.id, "hello");
    const anon = t.client();
    const roomId = room.id;
    const messageId = message.id;
    const calls = {
      send: () => anon.chat.messages.send.mutate({ roomId, content: "x", clientMessageId: "anon-1" }),
      list: () => anon.chat.messages.list.query({ roomId }),
      edit: () => anon.chat.messages.edit.mutate({ messageId, content: "x" }),
      delete: () => anon.chat.messages.delete.mutate({ messageId }),
      react: () => anon.chat.messages.react.mutate({ messageId, emoji: "👍" }),
      unreact: () => anon.chat.messages.unreact.mutate({ messageId, emoji: "👍" }),
      search: () => anon.chat.messages.search.query({ query: "hello" }),
      typing: () => anon.chat.typing.mutate({ roomId }),
    };
    expect(await outcomes(calls)).toEqual(every(calls, "UNAUTHORIZED"));
    expect(await listAll(owner.api, room.id)).toMatchObject([
      { id: message.id, content: "hello", editedAt: null, deletedAt: null, reactions: [] },
    ]);
  });
});

describe("chat.messages.send", () => {
  it("sends a message that lists with its seq, author and no reactions", async () => {
    const { owner, room, bob } = await roomWithBob();
    const message = await bob.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "hello",
      clientMessageId: "c-1",
    });
    expect(message).toMatchObject({
      roomId: room.id,
      userId: bob.user.id,
      authorName: "Bob",
      content: "hello",
      clientMessageId: "c-1",
      editedAt: null,
      deletedAt: null,
    });
    expect(message.seq).toBeGreaterThan(room.lastSeq);
    expect(await listAll(owner.api, room.id)).toEqual([{ ...message, reactions: [] }]);
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ lastSeq: message.seq });
  });

  it("trims the content and stores HTML unchanged, as text", async () => {
    const { owner, room } = await roomWith(t, false);
    const html = "<script>alert(1)</script><b>x</b>";
    const trimmed = await send(owner.api, room.id, "  \n\t hello\n  world \n ");
    expect(trimmed.content).toBe("hello\n  world");
    const markup = await send(owner.api, room.id, html);
    expect(markup.content).toBe(html);
    expect((await listAll(owner.api, room.id)).map((m) => m.content)).toEqual([html, "hello\n  world"]);
    expect((await storedMessages(t, room.id)).map((m) => m.content)).toEqual(["hello\n  world", html]);
  });

  it("accepts 4,000 characters (after trimming) and refuses 4,001", async () => {
    const { owner, room } = await roomWith(t, false);
    const max = await send(owner.api, room.id, "a".repeat(4000));
    expect(max.content).toHaveLength(4000);
    const padded = await send(owner.api, room.id, `  ${"b".repeat(4000)}  `);
    expect(padded.content).toBe("b".repeat(4000));
    expect(await fieldErrorsOf(send(owner.api, room.id, "c".repeat(4001)))).toHaveProperty("content");
    expect(await storedMessages(t, room.id)).toHaveLength(2);
  });

  it("refuses NUL bytes, 10,000 characters and whitespace-only content with a field error on content, storing nothing", async () => {
    const { owner, room } = await roomWith(t, false);
    for (const content of ["a\u0000b", "\u0000", "x".repeat(10_000), "   ", " \n\t\r\n ", ""]) {
      const errors = await fieldErrorsOf(send(owner.api, room.id, content));
      expect(errors.content, JSON.stringify(content.slice(0, 10))).toBeDefined();
    }
    expect(await storedMessages(t, room.id)).toEqual([]);
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({
      lastSeq: room.lastSeq,
    });
  });

  it("refuses other malformed send input with BAD_REQUEST and stores nothing", async () => {
    const { owner, room } = await roomWith(t, false);
    const roomId = room.id;
    const bad: Record<string, unknown> = {
      "bad room id": { roomId: "nope", content: "x", clientMessageId: "a" },
      "missing room id": { content: "x", clientMessageId: "a" },
      "missing content": { roomId, clientMessageId: "a" },
      "number content": { roomId, content: 5, clientMessageId: "a" },
      "missing clientMessageId": { roomId, content: "x" },
      "empty clientMessageId": { roomId, content: "x", clientMessageId: "" },
      "clientMessageId with spaces": { roomId, content: "x", clientMessageId: "a b" },
      "NUL in clientMessageId": { roomId, content: "x", clientMessageId: "a\u0000" },
      "65-character clientMessageId": { roomId, content: "x", clientMessageId: "c".repeat(65) },
      "no input": undefined,
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => owner.api.chat.messages.send.mutate(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect(await storedMessages(t, room.id)).toEqual([]);
  });

  it("a retried send with the same clientMessageId returns the same message, and the room holds one copy", async () => {
    const { owner, room } = await roomWith(t, false);
    const input = { roomId: room.id, content: "only once", clientMessageId: "retry-1" };
    const first = await owner.api.chat.messages.send.mutate(input);
    const second = await owner.api.chat.messages.send.mutate(input);
    const third = await owner.api.chat.messages.send.mutate({ ...input, content: "changed my mind" });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await listAll(owner.api, room.id)).toMatchObject([{ id: first.id, seq: first.seq }]);
    expect(await storedMessages(t, room.id)).toHaveLength(1);
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ lastSeq: first.seq });
  });

  it("10 concurrent identical sends return one message with one id and seq, and the room holds one copy", async () => {
    const { owner, room } = await roomWith(t, false);
    const input = { roomId: room.id, content: "racing", clientMessageId: randomUUID() };
    // Separate clients: separate HTTP requests that really race, not one batch.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => t.client(owner.token).chat.messages.send.mutate(input)),
    );
    expect(new Set(results.map((m) => m.id)).size).toBe(1);
    expect(new Set(results.map((m) => m.seq)).size).toBe(1);
    expect(await storedMessages(t, room.id)).toHaveLength(1);
    expect(await listAll(owner.api, room.id)).toMatchObject([{ id: results[0]?.id, seq: results[0]?.seq }]);
  });

  it("the same clientMessageId from two users makes two messages", async () => {
    const { owner, room, bob } = await roomWithBob();
    const a = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "a",
      clientMessageId: "same",
    });
    const b = await bob.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "b",
      clientMessageId: "same",
    });
    expect(a.id).not.toBe(b.id);
    expect((await listAll(owner.api, room.id)).map((m) => m.content)).toEqual(["b", "a"]);
  });

  it("reusing a clientMessageId in another room is CONFLICT with a field error on clientMessageId", async () => {
    const { owner, room } = await roomWith(t, false);
    const other = await owner.api.chat.rooms.create.mutate({ name: "Other", isPrivate: false });
    await owner.api.chat.messages.send.mutate({ roomId: room.id, content: "x", clientMessageId: "reused" });
    const error = await errorOf(
      owner.api.chat.messages.send.mutate({ roomId: other.id, content: "y", clientMessageId: "reused" }),
    );
    expect(error.data?.code).toBe("CONFLICT");
    expect(error.data?.zodError?.fieldErrors).toHaveProperty("clientMessageId");
    expect(await storedMessages(t, other.id)).toEqual([]);
  });

  it("non-members of a public room get FORBIDDEN and an unknown room NOT_FOUND", async () => {
    const { room } = await roomWith(t, false);
    const stranger = await signUp(t, "Stranger");
    expect(await codeOf(send(stranger.api, room.id, "let me in"))).toBe("FORBIDDEN");
    expect(await codeOf(send(stranger.api, randomUUID(), "anyone?"))).toBe("NOT_FOUND");
    expect(await storedMessages(t, room.id)).toEqual([]);
  });

  it("rate limit: 3 sends go through, the 4th is TOO_MANY_REQUESTS with a positive retryAfterMs; another user is unaffected", async () => {
    const limited = await startTestServer({ rateLimits: { send: { points: 3, durationSeconds: 60 } } });
    try {
      const { owner, room } = await roomWith(limited, false);
      const other = await signUp(limited, "Other");
      await other.api.chat.rooms.join.mutate({ roomId: room.id });
      for (let i = 0; i < 3; i++) await send(owner.api, room.id, `message ${i}`);
      const error = await errorOf(send(owner.api, room.id, "one too many"));
      expect(error.data?.code).toBe("TOO_MANY_REQUESTS");
      expect(error.data?.retryAfterMs).toBeTypeOf("number");
      expect(error.data?.retryAfterMs).toBeGreaterThan(0);
      expect(await send(other.api, room.id, "my turn")).toMatchObject({ content: "my turn" });
      expect((await storedMessages(limited, room.id)).map((m) => m.content)).toEqual([
        "message 0",
        "message 1",
        "message 2",
        "my turn",
      ]);
    } finally {
      await limited.close();
    }
  });
});

describe("chat.messages.list", () => {
  async function roomWith25() {
    const { owner, room } = await roomWith(t, false);
    const sent: Message[] = [];
    for (let i = 1; i <= 25; i++) sent.push(await send(owner.api, room.id, `message ${i}`));
    return { owner, room, sent };
  }

  it("walks 25 messages back with before in pages of 10, newest first, without gaps or repeats", async () => {
    const { owner, room, sent } = await roomWith25();
    const pages: number[][] = [];
    const hasMore: boolean[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await owner.api.chat.messages.list.query({ roomId: room.id, limit: 10, before });
      pages.push(page.items.map((m) => m.seq));
      hasMore.push(page.hasMore);
      if (!page.hasMore) break;
      before = page.items.at(-1)?.seq;
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(hasMore).toEqual([true, true, false]);
    expect(pages.flat()).toEqual(sent.map((m) => m.seq).reverse());
  });

  it("walks 25 messages forward with after in pages of 10, each page newest first, without gaps or repeats", async () => {
    const { owner, room, sent } = await roomWith25();
    const pages: number[][] = [];
    const hasMore: boolean[] = [];
    let after = 0;
    for (;;) {
      const page = await owner.api.chat.messages.list.query({ roomId: room.id, limit: 10, after });
      const seqs = page.items.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
      pages.push(seqs);
      hasMore.push(page.hasMore);
      if (!page.hasMore) break;
      after = must(seqs[0]);
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(hasMore).toEqual([true, true, false]);
    expect(pages.flat().sort((a, b) => a - b)).toEqual(sent.map((m) => m.seq));
    const newest = await owner.api.chat.messages.list.query({ roomId: room.id, after: sent.at(-1)?.seq });
    expect(newest).toEqual({ items: [], hasMore: false });
  });

  it("lets any signed-in user read a public room they are not in", async () => {
    const { owner, room } = await roomWith(t, false);
    const message = await send(owner.api, room.id, "public words");
    const stranger = await signUp(t, "Stranger");
    expect(await stranger.api.chat.messages.list.query({ roomId: room.id })).toMatchObject({
      items: [{ id: message.id, content: "public words", authorName: "Owner", reactions: [] }],
      hasMore: false,
    });
  });

  it("lets an admin read a private room they are not in", async () => {
    const { owner, room } = await roomWith(t, true);
    const message = await send(owner.api, room.id, "private words");
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    expect((await admin.api.chat.messages.list.query({ roomId: room.id })).items).toMatchObject([
      { id: message.id, content: "private words" },
    ]);
  });

  it("refuses limit above 100, before with after, and malformed input with BAD_REQUEST", async () => {
    const { owner, room } = await roomWith(t, false);
    const roomId = room.id;
    const bad: Record<string, unknown> = {
      "limit 101": { roomId, limit: 101 },
      "limit 0": { roomId, limit: 0 },
      "before and after": { roomId, before: 10, after: 1 },
      "negative before": { roomId, before: -1 },
      "fractional after": { roomId, after: 1.5 },
      "string before": { roomId, before: "5" },
      "bad room id": { roomId: "x" },
      "NUL in room id": { roomId: `${roomId}\u0000` },
      "missing room id": {},
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => owner.api.chat.messages.list.query(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect(await owner.api.chat.messages.list.query({ roomId, limit: 100 })).toEqual({
      items: [],
      hasMore: false,
    });
  });
});

describe("chat.messages.edit", () => {
  it("the author edits: content replaced and trimmed, editedAt set", async () => {
    const { owner, room, bob } = await roomWithBob();
    const message = await send(bob.api, room.id, "frist");
    const edited = await bob.api.chat.messages.edit.mutate({ messageId: message.id, content: "  first  " });
    expect(edited).toMatchObject({ id: message.id, content: "first" });
    expect(edited.editedAt).toEqual(expect.any(String));
    const [listed] = await listAll(owner.api, room.id);
    expect(listed).toMatchObject({
      id: message.id,
      seq: message.seq,
      content: "first",
      editedAt: edited.editedAt,
    });
  });

  it("nobody but the author edits, not even the room owner or an admin: FORBIDDEN", async () => {
    const { owner, room, bob } = await roomWithBob();
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    const message = await send(bob.api, room.id, "mine");
    for (const who of [owner, admin]) {
      expect(
        await codeOf(who.api.chat.messages.edit.mutate({ messageId: message.id, content: "theirs" })),
        who.user.displayName,
      ).toBe("FORBIDDEN");
    }
    expect(await listAll(bob.api, room.id)).toMatchObject([{ content: "mine", editedAt: null }]);
  });

  it("refuses malformed edit input with BAD_REQUEST and leaves the message unchanged", async () => {
    const { owner, room } = await roomWith(t, false);
    const message = await send(owner.api, room.id, "original");
    const messageId = message.id;
    const bad: Record<string, unknown> = {
      "NUL in content": { messageId, content: "a\u0000" },
      "whitespace content": { messageId, content: "  \n " },
      "4,001 characters": { messageId, content: "x".repeat(4001) },
      "missing content": { messageId },
      "bad message id": { messageId: "nope", content: "x" },
      "number message id": { messageId: 1, content: "x" },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => owner.api.chat.messages.edit.mutate(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect(
      await fieldErrorsOf(owner.api.chat.messages.edit.mutate({ messageId, content: "\u0000" })),
    ).toHaveProperty("content");
    expect(await listAll(owner.api, room.id)).toMatchObject([{ content: "original", editedAt: null }]);
  });

  it("editing an unknown or a deleted message is NOT_FOUND", async () => {
    const { owner, room } = await roomWith(t, false);
    const message = await send(owner.api, room.id, "short-lived");
    await owner.api.chat.messages.delete.mutate({ messageId: message.id });
    expect(
      await codeOf(owner.api.chat.messages.edit.mutate({ messageId: message.id, content: "back" })),
    ).toBe("NOT_FOUND");
    expect(await codeOf(owner.api.chat.messages.edit.mutate({ messageId: randomUUID(), content: "x" }))).toBe(
      "NOT_FOUND",
    );
    expect(await listAll(owner.api, room.id)).toMatchObject([{ id: message.id, content: null }]);
  });
});

describe("chat.messages.delete", () => {
  it("the author soft-deletes: content gone, deletedAt set, the tombstone stays in the list", async () => {
    const { owner, room, bob } = await roomWithBob();
    const message = await send(bob.api, room.id, "oops");
    const after = await send(owner.api, room.id, "after");
    expect(await bob.api.chat.messages.delete.mutate({ messageId: message.id })).toEqual({ id: message.id });
    const items = await listAll(owner.api, room.id);
    expect(items.map((m) => m.id)).toEqual([after.id, message.id]);
    expect(items[1]).toMatchObject({ id: message.id, seq: message.seq, content: null });
    expect(items[1]?.deletedAt).toEqual(expect.any(String));
    // Deleting again changes nothing.
    expect(await bob.api.chat.messages.delete.mutate({ messageId: message.id })).toEqual({ id: message.id });
    expect((await listAll(owner.api, room.id))[1]?.deletedAt).toBe(items[1]?.deletedAt);
  });

  it("the room owner and a moderator delete others' messages; members cannot (FORBIDDEN)", async () => {
    const { owner, room, bob } = await roomWithBob();
    const moderator = await signUp(t, "Moderator");
    const carol = await signUp(t, "Carol");
    await moderator.api.chat.rooms.join.mutate({ roomId: room.id });
    await setRoomRole(t, room.id, moderator.user.id, "moderator");
    await carol.api.chat.rooms.join.mutate({ roomId: room.id });
    const byOwner = await send(bob.api, room.id, "owner deletes this");
    const byModerator = await send(bob.api, room.id, "moderator deletes this");
    const kept = await send(bob.api, room.id, "carol cannot delete this");

    expect(await codeOf(carol.api.chat.messages.delete.mutate({ messageId: kept.id }))).toBe("FORBIDDEN");
    await owner.api.chat.messages.delete.mutate({ messageId: byOwner.id });
    await moderator.api.chat.messages.delete.mutate({ messageId: byModerator.id });

    const items = await listAll(carol.api, room.id);
    expect(items.map((m) => [m.id, m.content])).toEqual([
      [kept.id, "carol cannot delete this"],
      [byModerator.id, null],
      [byOwner.id, null],
    ]);
  });

  it("a moderator cannot delete messages of another room (FORBIDDEN)", async () => {
    const { room } = await roomWith(t, false);
    const { owner: otherOwner, room: otherRoom } = await roomWith(t, false);
    const moderator = await signUp(t, "Moderator");
    await setRoomRole(t, room.id, moderator.user.id, "moderator");
    const message = await send(otherOwner.api, otherRoom.id, "not yours to moderate");
    expect(await codeOf(moderator.api.chat.messages.delete.mutate({ messageId: message.id }))).toBe(
      "FORBIDDEN",
    );
    expect(await listAll(otherOwner.api, otherRoom.id)).toMatchObject([{ content: "not yours to moderate" }]);
  });

  it("an admin deletes a message in a private room they are not in", async () => {
    const { owner, room } = await roomWith(t, true);
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    const message = await send(owner.api, room.id, "reported");
    await admin.api.chat.messages.delete.mutate({ messageId: message.id });
    expect(await listAll(owner.api, room.id)).toMatchObject([{ id: message.id, content: null }]);
  });

  it("refuses a malformed message id with BAD_REQUEST and an unknown one with NOT_FOUND", async () => {
    const { owner, room } = await roomWith(t, false);
    await send(owner.api, room.id, "still here");
    for (const input of [{ messageId: "x" }, { messageId: 7 }, {}, { messageId: `${randomUUID()}\u0000` }]) {
      expect(await codeOf(owner.api.chat.messages.delete.mutate(input as never))).toBe("BAD_REQUEST");
    }
    expect(await codeOf(owner.api.chat.messages.delete.mutate({ messageId: randomUUID() }))).toBe(
      "NOT_FOUND",
    );
    expect(await listAll(owner.api, room.id)).toMatchObject([{ content: "still here", deletedAt: null }]);
  });
});

describe("chat.messages.react and unreact", () => {
  it("react adds one reaction per user and emoji; reacting twice is a no-op", async () => {
    const { owner, room, bob } = await roomWithBob();
    const message = await send(owner.api, room.id, "react to me");
    expect(await bob.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" })).toEqual({
      ok: true,
    });
    await bob.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    await owner.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    await bob.api.chat.messages.react.mutate({ messageId: message.id, emoji: "🎉" });
    await bob.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👩‍💻" });

    const sortByEmoji = <R extends { emoji: string }>(r: R[]) =>
      [...r].sort((a, b) => a.emoji.localeCompare(b.emoji));
    const [forBob] = await listAll(bob.api, room.id);
    expect(sortByEmoji(must(forBob).reactions)).toEqual(
      sortByEmoji([
        { emoji: "👍", count: 2, mine: true },
        { emoji: "🎉", count: 1, mine: true },
        { emoji: "👩‍💻", count: 1, mine: true },
      ]),
    );
    const [forOwner] = await listAll(owner.api, room.id);
    expect(sortByEmoji(must(forOwner).reactions)).toEqual(
      sortByEmoji([
        { emoji: "👍", count: 2, mine: true },
        { emoji: "🎉", count: 1, mine: false },
        { emoji: "👩‍💻", count: 1, mine: false },
      ]),
    );
  });

  it("unreact removes only the caller's reaction; removing one that is not there changes nothing", async () => {
    const { owner, room, bob } = await roomWithBob();
    const message = await send(owner.api, room.id, "react to me");
    await bob.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    await owner.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    expect(await bob.api.chat.messages.unreact.mutate({ messageId: message.id, emoji: "👍" })).toEqual({
      ok: true,
    });
    await bob.api.chat.messages.unreact.mutate({ messageId: message.id, emoji: "👍" });
    await bob.api.chat.messages.unreact.mutate({ messageId: message.id, emoji: "🎉" });
    const [forBob] = await listAll(bob.api, room.id);
    expect(forBob?.reactions).toEqual([{ emoji: "👍", count: 1, mine: false }]);
    await owner.api.chat.messages.unreact.mutate({ messageId: message.id, emoji: "👍" });
    expect((await listAll(bob.api, room.id))[0]?.reactions).toEqual([]);
  });

  it("non-members of a public room cannot react or unreact: FORBIDDEN", async () => {
    const { owner, room } = await roomWith(t, false);
    const stranger = await signUp(t, "Stranger");
    const message = await send(owner.api, room.id, "members only");
    expect(
      await codeOf(stranger.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" })),
    ).toBe("FORBIDDEN");
    expect(
      await codeOf(stranger.api.chat.messages.unreact.mutate({ messageId: message.id, emoji: "👍" })),
    ).toBe("FORBIDDEN");
    expect((await listAll(owner.api, room.id))[0]?.reactions).toEqual([]);
  });

  it("reacting to an unknown or a deleted message is NOT_FOUND", async () => {
    const { owner, room } = await roomWith(t, false);
    const message = await send(owner.api, room.id, "gone");
    await owner.api.chat.messages.delete.mutate({ messageId: message.id });
    for (const messageId of [message.id, randomUUID()]) {
      expect(await codeOf(owner.api.chat.messages.react.mutate({ messageId, emoji: "👍" }))).toBe(
        "NOT_FOUND",
      );
      expect(await codeOf(owner.api.chat.messages.unreact.mutate({ messageId, emoji: "👍" }))).toBe(
        "NOT_FOUND",
      );
    }
  });

  it("refuses anything but an emoji, and malformed ids, with BAD_REQUEST", async () => {
    const { owner, room } = await roomWith(t, false);
    const message = await send(owner.api, room.id, "emoji only");
    const messageId = message.id;
    const bad: Record<string, unknown> = {
      text: { messageId, emoji: "abc" },
      empty: { messageId, emoji: "" },
      "emoji and text": { messageId, emoji: "👍 nice" },
      "NUL with emoji": { messageId, emoji: "👍\u0000" },
      "33 emoji": { messageId, emoji: "👍".repeat(33) },
      HTML: { messageId, emoji: "<b>" },
      "missing emoji": { messageId },
      "number emoji": { messageId, emoji: 1 },
      "bad message id": { messageId: "x", emoji: "👍" },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).flatMap(([name, input]) => [
        [`react: ${name}`, () => owner.api.chat.messages.react.mutate(input as never)],
        [`unreact: ${name}`, () => owner.api.chat.messages.unreact.mutate(input as never)],
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect((await listAll(owner.api, room.id))[0]?.reactions).toEqual([]);
  });
});

describe("chat.messages.search", () => {
  it("finds messages by their words, the message matching more terms first", async () => {
    const [a, b, c] = [uniqueWord("qa"), uniqueWord("qb"), uniqueWord("qc")];
    const { owner, room } = await roomWith(t, false);
    const all = await send(owner.api, room.id, `The ${a} met the ${b} and the ${c}`);
    // Sent later, so a newest-first tie-break would put them ahead if ranking were ignored.
    const onlyA = await send(owner.api, room.id, `lonely ${a} sits`);
    const onlyC = await send(owner.api, room.id, `only ${c}`);
    await send(owner.api, room.id, "nothing relevant");

    const ranked = await owner.api.chat.messages.search.query({ query: `${a} OR ${b} OR ${c}` });
    expect(ranked.items[0]?.id).toBe(all.id);
    expect(ranked.items.map((m) => m.id).sort()).toEqual([all.id, onlyA.id, onlyC.id].sort());
    expect(ranked.items[0]).toMatchObject({ roomId: room.id, roomName: "Room", authorName: "Owner" });
    expect(ranked.nextCursor).toBeNull();

    const both = await owner.api.chat.messages.search.query({ query: `${a} ${b}` });
    expect(both.items.map((m) => m.id)).toEqual([all.id]);
    const phrase = await owner.api.chat.messages.search.query({ query: `"lonely ${a}"` });
    expect(phrase.items.map((m) => m.id)).toEqual([onlyA.id]);
    const excluding = await owner.api.chat.messages.search.query({ query: `${a} -${b}` });
    expect(excluding.items.map((m) => m.id)).toEqual([onlyA.id]);
  });

  it("treats any user text as a valid query, without errors", async () => {
    const { owner, room } = await roomWith(t, false);
    const word = uniqueWord();
    const unicode = await send(owner.api, room.id, `naïve café 東京 🙂 ${word}`);
    const queries = [
      '"',
      '""',
      `"unclosed`,
      '"unclosed phrase',
      "&|!():*",
      "'",
      "''",
      "it's",
      "naïve café 東京 🙂",
      "-",
      "--",
      "- -",
      "OR",
      "or or",
      "AND",
      "NOT",
      "'; drop table messages; --",
      "1=1; select * from users",
      "a:*",
      "foo <-> bar",
      "(((",
      ")",
      "\\",
      "%_%",
      "!",
      "|",
      "&",
      "*",
      "🙂",
      "the",
      "<script>alert(1)</script>",
      "q".repeat(200),
      "\t tab  and spaces ",
    ];
    for (const query of queries) {
      const global = await owner.api.chat.messages.search.query({ query });
      expect(Array.isArray(global.items), query).toBe(true);
      const inRoom = await owner.api.chat.messages.search.query({ query, roomId: room.id });
      expect(Array.isArray(inRoom.items), query).toBe(true);
    }
    const found = await owner.api.chat.messages.search.query({
      query: "naïve café 東京 🙂",
      roomId: room.id,
    });
    expect(found.items.map((m) => m.id)).toEqual([unicode.id]);
  });

  it("refuses an empty or whitespace-only query, or one with NUL bytes, with BAD_REQUEST", async () => {
    const alice = await signUp(t, "Alice");
    const bad: Record<string, unknown> = {
      empty: { query: "" },
      spaces: { query: "   " },
      "line breaks and tabs": { query: "\n\t \r\n" },
      "NUL byte": { query: "a\u0000b" },
      "201 characters": { query: "q".repeat(201) },
      "missing query": {},
      "number query": { query: 42 },
      "bad room id": { query: "x", roomId: "nope" },
      "negative cursor": { query: "x", cursor: -1 },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => alice.api.chat.messages.search.query(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
  });

  it("pages results 20 at a time without gaps or repeats", async () => {
    const word = uniqueWord();
    const { owner, room } = await roomWith(t, false);
    const sent: string[] = [];
    for (let i = 0; i < 25; i++) sent.push((await send(owner.api, room.id, `${word} number ${i}`)).id);
    const first = await owner.api.chat.messages.search.query({ query: word });
    expect(first.items).toHaveLength(20);
    expect(first.nextCursor).toBe(20);
    const second = await owner.api.chat.messages.search.query({
      query: word,
      cursor: must(first.nextCursor),
    });
    expect(second.items).toHaveLength(5);
    expect(second.nextCursor).toBeNull();
    const ids = [...first.items, ...second.items].map((m) => m.id);
    expect(new Set(ids).size).toBe(25);
    expect([...ids].sort()).toEqual([...sent].sort());
  });

  it("never returns messages of rooms the caller cannot read, globally or by room", async () => {
    const word = uniqueWord();
    const { owner, room: secret } = await roomWith(t, true);
    const member = await signUp(t, "Member");
    const outsider = await signUp(t, "Outsider");
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    await owner.api.chat.rooms.invite.mutate({ roomId: secret.id, userId: member.user.id });
    const hidden = await send(owner.api, secret.id, `${word} hidden`);
    const { owner: publicOwner, room: open } = await roomWith(t, false);
    const visible = await send(publicOwner.api, open.id, `${word} visible`);

    const ids = async (api: typeof owner.api, roomId?: string) =>
      (await api.chat.messages.search.query({ query: word, roomId })).items.map((m) => m.id).sort();
    expect(await ids(outsider.api)).toEqual([visible.id]);
    expect(await ids(outsider.api, open.id)).toEqual([visible.id]);
    expect(await codeOf(outsider.api.chat.messages.search.query({ query: word, roomId: secret.id }))).toBe(
      "NOT_FOUND",
    );
    expect(await ids(member.api)).toEqual([hidden.id, visible.id].sort());
    expect(await ids(member.api, secret.id)).toEqual([hidden.id]);
    expect(await ids(admin.api)).toEqual([hidden.id, visible.id].sort());

    // Once kicked, the member no longer finds it either.
    await owner.api.chat.rooms.kick.mutate({ roomId: secret.id, userId: member.user.id });
    expect(await ids(member.api)).toEqual([visible.id]);
  });

  it("does not return deleted messages, and finds edited ones by their new text", async () => {
    const [old, fresh, gone] = [uniqueWord(), uniqueWord(), uniqueWord()];
    const { owner, room } = await roomWith(t, false);
    const edited = await send(owner.api, room.id, `${old} text`);
    const deleted = await send(owner.api, room.id, `${gone} text`);
    await owner.api.chat.messages.edit.mutate({ messageId: edited.id, content: `${fresh} text` });
    await owner.api.chat.messages.delete.mutate({ messageId: deleted.id });
    const search = async (query: string) =>
      (await owner.api.chat.messages.search.query({ query })).items.map((m) => m.id);
    expect(await search(old)).toEqual([]);
    expect(await search(fresh)).toEqual([edited.id]);
    expect(await search(gone)).toEqual([]);
  });
});

describe("chat.typing", () => {
  it("a member says they are typing", async () => {
    const { room, bob } = await roomWithBob(true);
    expect(await bob.api.chat.typing.mutate({ roomId: room.id })).toEqual({ ok: true });
  });

  it("non-members of a public room get FORBIDDEN, an unknown room NOT_FOUND, a malformed id BAD_REQUEST", async () => {
    const { room } = await roomWith(t, false);
    const stranger = await signUp(t, "Stranger");
    expect(await codeOf(stranger.api.chat.typing.mutate({ roomId: room.id }))).toBe("FORBIDDEN");
    expect(await codeOf(stranger.api.chat.typing.mutate({ roomId: randomUUID() }))).toBe("NOT_FOUND");
    for (const input of [{ roomId: "x" }, { roomId: 1 }, {}, undefined, { roomId: `${room.id}\u0000` }]) {
      expect(await codeOf(stranger.api.chat.typing.mutate(input as never)), JSON.stringify(input)).toBe(
        "BAD_REQUEST",
      );
    }
  });
});
