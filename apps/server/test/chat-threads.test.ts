import { randomUUID } from "node:crypto";
import type { ParleyClient, RoomEvent } from "@parley/client";
import { historyStatements, schema } from "@parley/db";
import {
  codeOf,
  errorOf,
  type Message,
  must,
  roomWith,
  send,
  signUp,
  uniqueWord,
} from "@parley/testing/chat-fixtures";
import { collectRoomEvents } from "@parley/testing/event-collector";
import { eq, sql } from "drizzle-orm";
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

function reply(api: ParleyClient, message: Message, content: string, clientMessageId = randomUUID()) {
  return api.chat.messages.send.mutate({
    roomId: message.roomId,
    content,
    clientMessageId,
    parentId: message.id,
  });
}

async function rootOf(api: ParleyClient, threadId: string) {
  return (await api.chat.threads.list.query({ threadId, limit: 1 })).root;
}

async function lastSeq(roomId: string) {
  const [room] = await t.server.deps.db
    .select({ lastSeq: schema.rooms.lastSeq })
    .from(schema.rooms)
    .where(eq(schema.rooms.id, roomId));
  return must(room).lastSeq;
}

async function followedBy(api: ParleyClient) {
  return (await api.chat.threads.followed.query()).items;
}

describe("replies", () => {
  it("a reply joins its parent's thread (a reply to a reply joins the root's), the root carries replyCount and lastReplyAt, and the room's history lists only top-level messages", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "Lunch?");
    const first = await reply(bob.api, root, "Yes");
    const second = await bob.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "At noon",
      clientMessageId: randomUUID(),
      parentId: first.id,
    });
    expect(first.parentId).toBe(root.id);
    expect(second.parentId).toBe(root.id);
    const after = await send(owner.api, room.id, "Next topic");

    const history = await owner.api.chat.messages.list.query({ roomId: room.id });
    expect(history.items.map((m) => m.id)).toEqual([after.id, root.id]);
    expect(history.items[1]).toMatchObject({ replyCount: 2, lastReplyAt: second.createdAt, parentId: null });
    const forward = await owner.api.chat.messages.list.query({ roomId: room.id, after: 0 });
    expect(forward.items.map((m) => m.id)).toEqual([after.id, root.id]);

    const thread = await owner.api.chat.threads.list.query({ threadId: root.id });
    expect(thread.root).toMatchObject({ id: root.id, replyCount: 2, lastReplyAt: second.createdAt });
    expect(thread.items.map((m) => m.id)).toEqual([second.id, first.id]);
    expect(thread.hasMore).toBe(false);
  });

  it("a reply to no message, a deleted one, one in another room or a thread with a deleted root is NOT_FOUND and writes nothing", async () => {
    const { owner, room, bob } = await roomWithBob();
    const other = await roomWith(t, false, "Elsewhere");
    const elsewhere = await send(other.owner.api, other.room.id, "Not here");
    const deleted = await send(owner.api, room.id, "Gone soon");
    await owner.api.chat.messages.delete.mutate({ messageId: deleted.id });
    const root = await send(owner.api, room.id, "Root");
    const inThread = await reply(bob.api, root, "A reply");
    await owner.api.chat.messages.delete.mutate({ messageId: root.id });
    const before = await lastSeq(room.id);
    const replyTo = (parentId: string) =>
      codeOf(
        bob.api.chat.messages.send.mutate({
          roomId: room.id,
          content: "x",
          clientMessageId: randomUUID(),
          parentId,
        }),
      );
    expect({
      none: await replyTo(randomUUID()),
      deleted: await replyTo(deleted.id),
      otherRoom: await replyTo(elsewhere.id),
      deletedRoot: await replyTo(inThread.id),
    }).toEqual({ none: "NOT_FOUND", deleted: "NOT_FOUND", otherRoom: "NOT_FOUND", deletedRoot: "NOT_FOUND" });
    expect(await lastSeq(room.id)).toBe(before);
    expect((await rootOf(owner.api, root.id))?.replyCount).toBe(1);
  });

  it("a retried reply with the same clientMessageId, one after another or at once, is one reply and counts once", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "Retry me");
    const id = randomUUID();
    const firstTry = await reply(bob.api, root, "Once", id);
    const retry = await reply(bob.api, root, "Once", id);
    expect(retry).toEqual(firstTry);
    const racing = randomUUID();
    const racers = await Promise.all(Array.from({ length: 8 }, () => reply(bob.api, root, "Racing", racing)));
    expect(new Set(racers.map((m) => m.id)).size).toBe(1);
    const thread = await owner.api.chat.threads.list.query({ threadId: root.id });
    expect(thread.root?.replyCount).toBe(2);
    expect(thread.items).toHaveLength(2);
  });

  it("each reply is a message.created with parentId followed by a thread.updated with the root's counters, live and replayed alike", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "Events");
    const live = collectRoomEvents(owner.api, room.id, String(root.seq));
    await live.started();
    const first = await reply(bob.api, root, "One");
    const second = await reply(owner.api, root, "Two");
    await live.until(() => live.items.length === 4);
    const expected = [
      { type: "message.created", seq: first.seq, message: { id: first.id, parentId: root.id } },
      {
        type: "thread.updated",
        seq: first.seq + 1,
        threadId: root.id,
        replyCount: 1,
        lastReplyAt: first.createdAt,
      },
      { type: "message.created", seq: second.seq, message: { id: second.id, parentId: root.id } },
      {
        type: "thread.updated",
        seq: second.seq + 1,
        threadId: root.id,
        replyCount: 2,
        lastReplyAt: second.createdAt,
      },
    ];
    expect(live.items).toMatchObject(expected);
    const replayed = collectRoomEvents(owner.api, room.id, String(root.seq));
    await replayed.until(() => replayed.items.length === 4);
    expect(replayed.items).toEqual(live.items);
    live.unsubscribe();
    replayed.unsubscribe();
  });

  it("deleting a reply lowers the root's count and moves lastReplyAt back to the newest live reply, with a thread.updated after the message.deleted", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "Counting");
    const first = await reply(bob.api, root, "One");
    const second = await reply(bob.api, root, "Two");
    const events = collectRoomEvents(owner.api, room.id, String(second.seq + 1));
    await events.started();
    await bob.api.chat.messages.delete.mutate({ messageId: second.id });
    await events.until(() => events.items.length === 2);
    expect(events.items).toMatchObject([
      { type: "message.deleted", messageId: second.id },
      { type: "thread.updated", threadId: root.id, replyCount: 1, lastReplyAt: first.createdAt },
    ]);
    // Deleting again is idempotent: nothing more is counted.
    await bob.api.chat.messages.delete.mutate({ messageId: second.id });
    await owner.api.chat.messages.delete.mutate({ messageId: first.id });
    expect(await rootOf(owner.api, root.id)).toMatchObject({ replyCount: 0, lastReplyAt: null });
    events.unsubscribe();
  });
});

describe("room lists and thread replies", () => {
  it("chat.rooms.list and chat.dms.list count and show top-level messages only: a reply is neither unread in the room nor its last message", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "Lunch?");
    await reply(owner.api, root, "Noon?");
    await reply(owner.api, root, "Or one?");
    const rooms = (await bob.api.chat.rooms.list.query({ limit: 100 })).items;
    expect(rooms.find((r) => r.id === room.id)).toMatchObject({
      unreadCount: 1,
      lastMessage: { id: root.id, content: "Lunch?" },
    });

    const dm = await owner.api.chat.dms.open.mutate({ userIds: [bob.user.id] });
    const hello = await send(owner.api, dm.id, "Hello");
    await reply(owner.api, hello, "In a thread");
    const [listed] = (await bob.api.chat.dms.list.query()).items;
    expect(listed).toMatchObject({
      id: dm.id,
      unreadCount: 1,
      lastMessage: { id: hello.id, content: "Hello" },
    });
  });
});

describe("chat.threads.list", () => {
  it("pages a thread's replies by seq with before and after, like the room's history", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "Paged");
    const replies: Message[] = [];
    for (let i = 0; i < 5; i++) replies.push(await reply(i % 2 ? owner.api : bob.api, root, `r${i}`));
    const ids = (items: { id: string }[]) => items.map((m) => m.id);
    const newest = await bob.api.chat.threads.list.query({ threadId: root.id, limit: 2 });
    expect(ids(newest.items)).toEqual([replies[4]?.id, replies[3]?.id]);
    expect(newest.hasMore).toBe(true);
    const older = await bob.api.chat.threads.list.query({
      threadId: root.id,
      limit: 2,
      before: must(replies[3]).seq,
    });
    expect(ids(older.items)).toEqual([replies[2]?.id, replies[1]?.id]);
    const oldest = await bob.api.chat.threads.list.query({
      threadId: root.id,
      limit: 2,
      before: must(replies[1]).seq,
    });
    expect(ids(oldest.items)).toEqual([replies[0]?.id]);
    expect(oldest.hasMore).toBe(false);
    const forward = await bob.api.chat.threads.list.query({
      threadId: root.id,
      limit: 3,
      after: must(replies[0]).seq,
    });
    expect(ids(forward.items)).toEqual([replies[3]?.id, replies[2]?.id, replies[1]?.id]);
    expect(forward.hasMore).toBe(true);
    await bob.api.chat.messages.react.mutate({ messageId: must(replies[0]).id, emoji: "👍" });
    const withReaction = await owner.api.chat.threads.list.query({ threadId: root.id, after: 0, limit: 1 });
    expect(withReaction.items[0]?.reactions).toEqual([{ emoji: "👍", count: 1, mine: false }]);
  });

  it("a reply's id or an unknown id is NOT_FOUND", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "Root");
    const answer = await reply(bob.api, root, "Reply");
    expect(await codeOf(owner.api.chat.threads.list.query({ threadId: answer.id }))).toBe("NOT_FOUND");
    expect(await codeOf(owner.api.chat.threads.list.query({ threadId: randomUUID() }))).toBe("NOT_FOUND");
  });

  it("the room's history statement still walks messages_room_seq_idx (one statement, the parent_id filter applied on the index scan)", async () => {
    const { owner, room } = await roomWith(t, false, "Big room");
    const root = await send(owner.api, room.id, "Root");
    const db = t.server.deps.db;
    // Enough rows that a sequential scan would be chosen if the index could not serve the query.
    await db.execute(sql`
      insert into messages (room_id, seq, user_id, content, client_message_id, parent_id)
      select ${room.id}::uuid, 1000 + g, ${owner.user.id}, 'bulk', ${randomUUID()} || '-' || g,
             case when g % 3 = 0 then ${root.id}::uuid end
        from generate_series(1, 20000) g`);
    await db.execute(sql`analyze messages`);
    for (const statement of historyStatements) {
      const params = [room.id, statement.name.endsWith("after") ? 0 : null, false, 51, owner.user.id];
      const text = statement.text.replace(/\$(\d)/g, (_, n: string) => {
        const value = params[Number(n) - 1];
        return value === null ? "null" : typeof value === "string" ? `'${value}'` : String(value);
      });
      const result = (await db.execute(sql.raw(`explain ${text}`))) as unknown as {
        rows: { "QUERY PLAN": string }[];
      };
      const plan = result.rows.map((row) => row["QUERY PLAN"]).join("\n");
      expect(plan, statement.name).toMatch(
        /Index Scan(?: Backward)? using messages_room_seq_idx on messages m/,
      );
      expect(plan, statement.name).toMatch(/Filter: \(parent_id IS NULL\)/);
      expect(plan, statement.name).not.toMatch(/Seq Scan on messages/);
    }
  });
});

describe("following and unread counts", () => {
  it("replying follows the thread for the replier and the root's author; followed counts others' live replies after the marker; markRead never moves back", async () => {
    const { owner, room, bob } = await roomWithBob();
    const carol = await signUp(t, "Carol");
    await carol.api.chat.rooms.join.mutate({ roomId: room.id });
    const root = await send(owner.api, room.id, "Thread");
    expect(await followedBy(owner.api)).toEqual([]);
    const bobs = await reply(bob.api, root, "From Bob");
    expect(await followedBy(owner.api)).toMatchObject([
      {
        threadId: root.id,
        roomId: room.id,
        roomName: room.name,
        content: "Thread",
        replyCount: 1,
        unreadCount: 1,
      },
    ]);
    expect(await followedBy(bob.api)).toMatchObject([{ threadId: root.id, unreadCount: 0 }]);
    expect(await followedBy(carol.api)).toEqual([]);

    const owners = await reply(owner.api, root, "From the owner");
    const carols = await reply(carol.api, root, "From Carol");
    const deletedLater = await reply(carol.api, root, "Carol again");
    await carol.api.chat.messages.delete.mutate({ messageId: deletedLater.id });
    // Replying is reading: the owner's reply marked Bob's read. The owner's own reply does not
    // count, nor a deleted one.
    expect((await followedBy(owner.api))[0]?.unreadCount).toBe(1);
    expect((await followedBy(bob.api))[0]?.unreadCount).toBe(2);

    expect(await bob.api.chat.threads.markRead.mutate({ threadId: root.id, seq: owners.seq })).toEqual({
      following: true,
      lastReadSeq: owners.seq,
    });
    expect((await followedBy(bob.api))[0]?.unreadCount).toBe(1);
    await bob.api.chat.threads.markRead.mutate({ threadId: root.id, seq: carols.seq });
    expect(await bob.api.chat.threads.markRead.mutate({ threadId: root.id, seq: 1 })).toEqual({
      following: true,
      lastReadSeq: carols.seq,
    });
    expect((await followedBy(bob.api))[0]?.unreadCount).toBe(0);
    expect(bobs.seq).toBeLessThan(owners.seq);
    // Past the room's last seq, the marker stops at it.
    const end = await lastSeq(room.id);
    expect(
      (await owner.api.chat.threads.markRead.mutate({ threadId: root.id, seq: end + 100 })).lastReadSeq,
    ).toBe(end);
  });

  it("follow and unfollow explicitly; markRead on a thread not followed changes nothing", async () => {
    const { owner, room, bob } = await roomWithBob();
    const reader = await signUp(t, "Reader");
    const root = await send(owner.api, room.id, "Watch this");
    await reply(bob.api, root, "One");
    await reply(bob.api, root, "Two");
    expect(await reader.api.chat.threads.markRead.mutate({ threadId: root.id, seq: 100 })).toEqual({
      following: false,
      lastReadSeq: 0,
    });
    // A public room's reader follows without joining.
    await reader.api.chat.threads.follow.mutate({ threadId: root.id });
    await reader.api.chat.threads.follow.mutate({ threadId: root.id });
    expect(await followedBy(reader.api)).toMatchObject([
      { threadId: root.id, unreadCount: 2, replyCount: 2 },
    ]);
    await reader.api.chat.threads.unfollow.mutate({ threadId: root.id });
    await reader.api.chat.threads.unfollow.mutate({ threadId: root.id });
    expect(await followedBy(reader.api)).toEqual([]);
  });

  it("a member who left or was kicked from a private room no longer sees its threads in followed", async () => {
    const { owner, room, bob } = await roomWithBob(true);
    const carol = await signUp(t, "Carol");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: carol.user.id });
    const root = await send(owner.api, room.id, "Secret plans");
    await reply(bob.api, root, "Bob's reply");
    await reply(carol.api, root, "Carol's reply");
    await reply(owner.api, root, "Owner's reply");
    expect(await followedBy(bob.api)).toMatchObject([{ threadId: root.id, unreadCount: 2 }]);
    expect(await followedBy(carol.api)).toMatchObject([{ threadId: root.id, unreadCount: 1 }]);
    await bob.api.chat.rooms.leave.mutate({ roomId: room.id });
    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: carol.user.id });
    expect(await followedBy(bob.api)).toEqual([]);
    expect(await followedBy(carol.api)).toEqual([]);
    for (const former of [bob, carol]) {
      expect(await codeOf(former.api.chat.threads.list.query({ threadId: root.id }))).toBe("NOT_FOUND");
      expect(await codeOf(former.api.chat.threads.markRead.mutate({ threadId: root.id, seq: 1 }))).toBe(
        "NOT_FOUND",
      );
    }
  });
});

describe("a private room's threads, to an outsider", () => {
  it("are never revealed: threads.list, follow, unfollow, markRead and a reply to them answer as for a message that does not exist; followed, events and search show nothing", async () => {
    const { owner, room, bob } = await roomWithBob(true);
    const word = uniqueWord();
    const root = await send(owner.api, room.id, `Private ${word}`);
    const answer = await reply(bob.api, root, `Reply ${word}`);
    const outsider = await signUp(t, "Outsider");
    const elsewhere = await outsider.api.chat.rooms.create.mutate({ name: "Outsider's", isPrivate: false });

    const asOutsider = async (threadId: string) => {
      const calls = {
        list: outsider.api.chat.threads.list.query({ threadId }),
        follow: outsider.api.chat.threads.follow.mutate({ threadId }),
        unfollow: outsider.api.chat.threads.unfollow.mutate({ threadId }),
        markRead: outsider.api.chat.threads.markRead.mutate({ threadId, seq: 1 }),
        reply: outsider.api.chat.messages.send.mutate({
          roomId: elsewhere.id,
          content: "x",
          clientMessageId: randomUUID(),
          parentId: threadId,
        }),
      };
      const result: Record<string, { code?: string; message: string }> = {};
      for (const [name, call] of Object.entries(calls)) {
        const error = await errorOf(call);
        result[name] = { code: error.data?.code, message: error.message };
      }
      return result;
    };
    const secret = await asOutsider(root.id);
    expect(secret).toEqual(await asOutsider(randomUUID()));
    expect(Object.values(secret).map((r) => r.code)).toEqual(Array(5).fill("NOT_FOUND"));
    expect(await asOutsider(answer.id)).toEqual(secret);

    expect(await followedBy(outsider.api)).toEqual([]);
    expect((await outsider.api.chat.messages.search.query({ query: word })).items).toEqual([]);
    expect((await bob.api.chat.messages.search.query({ query: word })).items.map((m) => m.id).sort()).toEqual(
      [root.id, answer.id].sort(),
    );
    const events = collectRoomEvents(outsider.api, room.id, "0");
    await events.started();
    expect(events.error()?.data?.code).toBe("NOT_FOUND");
    expect(events.items).toEqual([]);
    events.unsubscribe();
    expect(
      await t.server.deps.db
        .select()
        .from(schema.threadFollows)
        .where(eq(schema.threadFollows.userId, outsider.user.id)),
    ).toEqual([]);
  });
});

describe("concurrent replies", () => {
  it("20 repliers at once, 20 rounds: replyCount is the number of replies, lastReplyAt the newest, thread.updated counts 1..20 in seq order, every replier follows", async () => {
    const { owner, room } = await roomWith(t, false, "Race");
    const repliers = await Promise.all(Array.from({ length: 20 }, (_, i) => signUp(t, `Replier ${i}`)));
    await Promise.all(repliers.map((r) => r.api.chat.rooms.join.mutate({ roomId: room.id })));
    for (let round = 0; round < 20; round++) {
      const root = await send(owner.api, room.id, `Round ${round}`);
      const sent = await Promise.all(repliers.map((r, i) => reply(r.api, root, `r${round}-${i}`)));
      const thread = await owner.api.chat.threads.list.query({ threadId: root.id, limit: 100 });
      const newest = sent.reduce((a, b) => (a.seq > b.seq ? a : b));
      expect(thread.root, `round ${round}`).toMatchObject({ replyCount: 20, lastReplyAt: newest.createdAt });
      expect(thread.items).toHaveLength(20);
      const updates = await t.server.deps.db
        .select({ payload: schema.roomEvents.payload })
        .from(schema.roomEvents)
        .where(sql`${schema.roomEvents.roomId} = ${room.id} and ${schema.roomEvents.type} = 'thread.updated'
          and ${schema.roomEvents.payload}->>'threadId' = ${root.id}`)
        .orderBy(schema.roomEvents.seq);
      expect(
        updates.map((u) => (u.payload as Extract<RoomEvent, { type: "thread.updated" }>).replyCount),
      ).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const follows = await t.server.deps.db
        .select({ userId: schema.threadFollows.userId })
        .from(schema.threadFollows)
        .where(eq(schema.threadFollows.threadId, root.id));
      expect(follows).toHaveLength(21);
    }
  });
});

describe("replies meet the other send rules", () => {
  it("a reply that mentions a member stores the mention and reaches their inbox, as a plain send does", async () => {
    const { owner, room, bob } = await roomWithBob();
    const root = await send(owner.api, room.id, "a question");
    const sent = await reply(owner.api, root, `@${bob.user.handle} what do you think?`);
    expect(sent).toMatchObject({
      parentId: root.id,
      mentions: [bob.user.id],
      content: `@${bob.user.handle} what do you think?`,
    });
    const inbox = await bob.api.chat.mentions.list.query({});
    expect(inbox.items.map((item) => item.message.id)).toContain(sent.id);
    expect(await bob.api.chat.mentions.unreadCount.query()).toMatchObject({ count: 1 });
  });

  it("in a one-to-one DM across a block, a reply is refused like a plain send and writes nothing", async () => {
    const ada = await signUp(t, "Ada");
    const bob = await signUp(t, "Bob");
    const dm = await ada.api.chat.dms.open.mutate({ userIds: [bob.user.id] });
    const root = await send(ada.api, dm.id, "before the block");
    await ada.api.chat.blocks.block.mutate({ userId: bob.user.id });
    const before = await lastSeq(dm.id);
    expect(await codeOf(reply(bob.api, root, "a reply"))).toBe("FORBIDDEN");
    expect(await codeOf(reply(ada.api, root, "a reply"))).toBe("FORBIDDEN");
    expect(await lastSeq(dm.id)).toBe(before);
    expect((await rootOf(ada.api, root.id)).replyCount).toBe(0);
  });
});
