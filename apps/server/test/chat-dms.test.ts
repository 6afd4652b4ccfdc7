import { randomUUID } from "node:crypto";
import type { ParleyClient, RoomEvent } from "@parley/client";
import { schema } from "@parley/db";
import type { SignedUp } from "@parley/testing/accounts";
import {
  codeOf,
  every,
  makeAdmin,
  must,
  outcomes,
  rejectionOf,
  roomWith,
  send,
  signUp,
  uniqueWord,
} from "@parley/testing/chat-fixtures";
import { collectPresence, collectRoomEvents } from "@parley/testing/event-collector";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
/** Ten people for the groups: with an opener, a group of eleven. */
let pool: SignedUp[];
beforeAll(async () => {
  t = await startTestServer();
  pool = await Promise.all(Array.from({ length: 10 }, (_, i) => signUp(t, `Pool ${i}`)));
});
afterAll(() => t.close());

const idsOf = (people: SignedUp[]) => people.map((p) => p.user.id);

function contentsOf(events: RoomEvent[]) {
  return events.flatMap((e) => (e.type === "message.created" ? [e.message.content] : []));
}

async function dmRoomsWithKey(dmKey: string) {
  return t.server.deps.db.select().from(schema.rooms).where(eq(schema.rooms.dmKey, dmKey));
}

async function listedDmIds(api: ParleyClient) {
  return (await api.chat.dms.list.query({ limit: 100 })).items.map((dm) => dm.id);
}

async function listedRoomIds(api: ParleyClient) {
  return (await api.chat.rooms.list.query({ limit: 100 })).items.map((room) => room.id);
}

describe("chat.dms.open", () => {
  it("opening with the same people again, from either side and in any order, returns the same conversation", async () => {
    const [a, b, c] = await Promise.all([signUp(t, "Ann"), signUp(t, "Ben"), signUp(t, "Cy")]);
    const first = await a.api.chat.dms.open.mutate({ userIds: [b.user.id] });
    expect(first.created).toBe(true);
    expect(first.kind).toBe("dm");
    expect(first.members.map((m) => m.id).sort()).toEqual([a.user.id, b.user.id].sort());
    const again = await a.api.chat.dms.open.mutate({ userIds: [b.user.id, a.user.id, b.user.id] });
    const fromB = await b.api.chat.dms.open.mutate({ userIds: [a.user.id] });
    expect([again.id, fromB.id]).toEqual([first.id, first.id]);
    expect([again.created, fromB.created]).toEqual([false, false]);

    const group = await a.api.chat.dms.open.mutate({ userIds: [b.user.id, c.user.id] });
    const sameGroup = await c.api.chat.dms.open.mutate({ userIds: [b.user.id, a.user.id] });
    expect(sameGroup.id).toBe(group.id);
    expect(group.id).not.toBe(first.id);
    // Members are plain members: nobody administers a DM.
    const members = await c.api.chat.rooms.members.query({ roomId: group.id });
    expect(members.items.map((m) => m.role)).toEqual(["member", "member", "member"]);
    const room = await a.api.chat.rooms.get.query({ roomId: group.id });
    expect({ kind: room.kind, isPrivate: room.isPrivate, myRole: room.myRole }).toEqual({
      kind: "dm",
      isPrivate: true,
      myRole: "member",
    });
  });

  it("concurrent opens of the same people create one conversation, every caller gets it (40 rounds)", async () => {
    // Each round a set of people never opened before (pairs and triples of the pool), every member
    // opening at once.
    const sets: SignedUp[][] = [];
    for (let i = 0; i < pool.length && sets.length < 40; i++) {
      for (let j = i + 1; j < pool.length && sets.length < 40; j++) {
        const pair = [must(pool[i]), must(pool[j])];
        sets.push(pair);
        const k = (j + 1) % pool.length;
        if (k !== i && sets.length < 40) sets.push([...pair, must(pool[k])]);
      }
    }
    expect(sets).toHaveLength(40);
    for (const people of sets) {
      const ids = idsOf(people);
      const opens = await Promise.all(
        people.flatMap((p) => [
          p.api.chat.dms.open.mutate({ userIds: ids }),
          p.api.chat.dms.open.mutate({ userIds: ids.filter((id) => id !== p.user.id) }),
        ]),
      );
      expect(new Set(opens.map((dm) => dm.id)).size).toBe(1);
      expect(opens.filter((dm) => dm.created)).toHaveLength(1);
      const rooms = await dmRoomsWithKey([...ids].sort().join(","));
      expect(rooms).toHaveLength(1);
      const members = await t.server.deps.db
        .select()
        .from(schema.roomMembers)
        .where(eq(schema.roomMembers.roomId, must(rooms[0]).id));
      expect(members).toHaveLength(people.length);
    }
  });

  it("a group of 11 people (the caller and 10 others) is BAD_REQUEST and creates nothing; 10 is fine", async () => {
    const opener = await signUp(t, "Opener");
    const roomsBefore = await t.server.deps.db.select({ id: schema.rooms.id }).from(schema.rooms);
    const refusal = await rejectionOf(opener.api.chat.dms.open.mutate({ userIds: idsOf(pool) }));
    expect(refusal).toEqual({
      code: "BAD_REQUEST",
      message: "userIds: A direct message holds at most 10 people, you included",
    });
    const roomsAfter = await t.server.deps.db.select({ id: schema.rooms.id }).from(schema.rooms);
    expect(roomsAfter).toHaveLength(roomsBefore.length);
    const ten = await opener.api.chat.dms.open.mutate({ userIds: idsOf(pool.slice(0, 9)) });
    expect(ten.members).toHaveLength(10);
  });

  it("only yourself is BAD_REQUEST; an unknown id is NOT_FOUND without saying which, and creates nothing", async () => {
    const [a, b] = await Promise.all([signUp(t, "Ann"), signUp(t, "Ben")]);
    expect(await codeOf(a.api.chat.dms.open.mutate({ userIds: [a.user.id] }))).toBe("BAD_REQUEST");
    const unknown = "no-such-user-0000";
    const refusal = await rejectionOf(a.api.chat.dms.open.mutate({ userIds: [b.user.id, unknown] }));
    expect(refusal).toEqual({ code: "NOT_FOUND", message: "No such user" });
    const alone = await rejectionOf(a.api.chat.dms.open.mutate({ userIds: [unknown] }));
    expect(alone).toEqual(refusal);
    expect(await listedDmIds(a.api)).toEqual([]);
    expect(await listedDmIds(b.api)).toEqual([]);
  });
});

describe("a DM is invisible to everyone outside it", () => {
  // A site admin reads private rooms they are not in, but not a DM: to them it is as to anyone outside.
  it.each(["an outsider", "an admin who is not a member"])(
    "%s gets NOT_FOUND on every path and finds it in no list, search, count or report queue",
    async (who) => {
      const [a, b, outsider] = await Promise.all([signUp(t, "Ann"), signUp(t, "Ben"), signUp(t, "Out")]);
      if (who.startsWith("an admin")) await makeAdmin(t, outsider.user.id);
      const dm = await a.api.chat.dms.open.mutate({ userIds: [b.user.id] });
      const word = uniqueWord();
      const message = await send(a.api, dm.id, `secret ${word}`);
      const reply = await b.api.chat.messages.send.mutate({
        roomId: dm.id,
        content: `reply ${word}`,
        clientMessageId: randomUUID(),
        parentId: message.id,
      });
      const report = await b.api.chat.moderation.report.mutate({ messageId: message.id, reason: "Rude" });
      const roomId = dm.id;
      const api = outsider.api;
      const calls = {
        get: () => api.chat.rooms.get.query({ roomId }),
        history: () => api.chat.messages.list.query({ roomId }),
        members: () => api.chat.rooms.members.query({ roomId }),
        send: () => api.chat.messages.send.mutate({ roomId, content: "hi", clientMessageId: randomUUID() }),
        markRead: () => api.chat.rooms.markRead.mutate({ roomId, seq: 1 }),
        typing: () => api.chat.typing.mutate({ roomId }),
        join: () => api.chat.rooms.join.mutate({ roomId }),
        leave: () => api.chat.rooms.leave.mutate({ roomId }),
        update: () => api.chat.rooms.update.mutate({ roomId, name: "Mine" }),
        delete: () => api.chat.rooms.delete.mutate({ roomId }),
        invite: () => api.chat.rooms.invite.mutate({ roomId, userId: outsider.user.id }),
        kick: () => api.chat.rooms.kick.mutate({ roomId, userId: b.user.id }),
        searchInRoom: () => api.chat.messages.search.query({ query: word, roomId }),
        react: () => api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" }),
        edit: () => api.chat.messages.edit.mutate({ messageId: message.id, content: "x" }),
        deleteMessage: () => api.chat.messages.delete.mutate({ messageId: message.id }),
        report: () => api.chat.moderation.report.mutate({ messageId: message.id, reason: "Spam" }),
        thread: () => api.chat.threads.list.query({ threadId: message.id }),
        follow: () => api.chat.threads.follow.mutate({ threadId: message.id }),
        reportsInRoom: () => api.chat.moderation.reports.query({ roomId }),
        resolveReport: () =>
          api.chat.moderation.resolveReport.mutate({ reportId: report.id, action: "dismiss" }),
        restrictions: () => api.chat.moderation.restrictions.query({ roomId }),
        mute: () => api.chat.moderation.mute.mutate({ roomId, userId: b.user.id }),
        blocklist: () => api.chat.moderation.blocklist.list.query({ roomId }),
      };
      expect(await outcomes(calls)).toEqual(every(calls, "NOT_FOUND"));
      expect((await api.chat.moderation.reports.query({})).items.map((r) => r.id)).not.toContain(report.id);
      expect((await api.chat.messages.search.query({ query: word })).items.map((m) => m.id)).not.toContain(
        reply.id,
      );
      // The same words as for a room that does not exist: nothing tells the two apart.
      const missing = await rejectionOf(api.chat.rooms.get.query({ roomId: randomUUID() }));
      expect(await rejectionOf(api.chat.rooms.get.query({ roomId }))).toEqual(missing);

      const events = collectRoomEvents(api, roomId, "0");
      await events.until(() => events.error() !== undefined);
      expect(events.error()?.data?.code).toBe("NOT_FOUND");
      expect(events.items).toEqual([]);
      const presence = collectPresence(api, roomId);
      await presence.until(() => presence.error() !== undefined);
      expect(presence.error()?.data?.code).toBe("NOT_FOUND");
      expect(presence.items).toEqual([]);

      expect((await api.chat.messages.search.query({ query: word })).items).toEqual([]);
      expect(await listedRoomIds(api)).not.toContain(roomId);
      expect(await listedDmIds(api)).not.toContain(roomId);
      // Members see it as a DM, beside (not among) the rooms, with their unread count.
      expect(await listedRoomIds(b.api)).not.toContain(roomId);
      const [listed] = (await b.api.chat.dms.list.query()).items;
      expect(listed?.id).toBe(roomId);
      expect(listed?.unreadCount).toBe(1);
      expect((await b.api.chat.messages.search.query({ query: word })).items.map((m) => m.id).sort()).toEqual(
        [message.id, reply.id].sort(),
      );
    },
  );

  it("room procedures that make no sense for a DM refuse its members as FORBIDDEN, an admin among them; the DM is unchanged", async () => {
    const [a, b, c, admin] = await Promise.all([
      signUp(t, "Ann"),
      signUp(t, "Ben"),
      signUp(t, "Cy"),
      signUp(t, "Admin"),
    ]);
    await makeAdmin(t, admin.user.id);
    const one = await a.api.chat.dms.open.mutate({ userIds: [b.user.id] });
    const group = await a.api.chat.dms.open.mutate({ userIds: [b.user.id, c.user.id, admin.user.id] });
    for (const dm of [one, group]) {
      const roomId = dm.id;
      // An admin outside a DM gets NOT_FOUND (the test above); one inside it is a plain member.
      for (const api of dm === group ? [a.api, admin.api] : [a.api]) {
        const calls = {
          update: () => api.chat.rooms.update.mutate({ roomId, name: "Renamed" }),
          delete: () => api.chat.rooms.delete.mutate({ roomId }),
          join: () => api.chat.rooms.join.mutate({ roomId }),
          invite: () => api.chat.rooms.invite.mutate({ roomId, userId: admin.user.id }),
          kick: () => api.chat.rooms.kick.mutate({ roomId, userId: b.user.id }),
        };
        expect(await outcomes(calls)).toEqual(every(calls, "FORBIDDEN"));
      }
      const leave = await rejectionOf(b.api.chat.rooms.leave.mutate({ roomId }));
      expect(leave).toEqual({
        code: "FORBIDDEN",
        message: "A direct message's members are fixed: you cannot leave it",
      });
      const members = await a.api.chat.rooms.members.query({ roomId });
      expect(members.items.map((m) => m.userId).sort()).toEqual(dm.members.map((m) => m.id).sort());
    }
  });

  it("messages, reactions, read markers and events work in a DM as in any private room", async () => {
    const [a, b] = await Promise.all([signUp(t, "Ann"), signUp(t, "Ben")]);
    const dm = await a.api.chat.dms.open.mutate({ userIds: [b.user.id] });
    const events = collectRoomEvents(b.api, dm.id, "0");
    const message = await send(a.api, dm.id, "hello Ben");
    await b.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    await events.until(() => events.items.some((e) => e.type === "reaction.added"));
    expect(events.items.map((e) => e.type)).toEqual([
      "member.joined",
      "member.joined",
      "message.created",
      "reaction.added",
    ]);
    expect((await b.api.chat.dms.list.query()).items[0]?.unreadCount).toBe(1);
    await b.api.chat.rooms.markRead.mutate({ roomId: dm.id, seq: message.seq });
    expect((await b.api.chat.dms.list.query()).items[0]?.unreadCount).toBe(0);
    events.unsubscribe();
  });
});

describe("chat.dms.list", () => {
  it("lists the caller's DMs newest activity first, with members (id, name, handle), last message and unread count", async () => {
    const [me, b, c, d] = await Promise.all([
      signUp(t, "Me"),
      signUp(t, "Bea"),
      signUp(t, "Cal"),
      signUp(t, "Dee"),
    ]);
    const withB = await me.api.chat.dms.open.mutate({ userIds: [b.user.id] });
    const group = await c.api.chat.dms.open.mutate({ userIds: [me.user.id, d.user.id] });
    const withD = await me.api.chat.dms.open.mutate({ userIds: [d.user.id] });
    await send(c.api, group.id, "group one");
    await send(d.api, group.id, "group two");
    await send(b.api, withB.id, "newest");
    const { items, nextCursor } = await me.api.chat.dms.list.query();
    expect(nextCursor).toBeNull();
    // withD has no message: its opening is its last activity, older than the others' messages.
    expect(items.map((dm) => dm.id)).toEqual([withB.id, group.id, withD.id]);
    const [first, second, third] = items;
    expect(first?.lastMessage?.content).toBe("newest");
    expect(first?.unreadCount).toBe(1);
    expect(second?.lastMessage?.content).toBe("group two");
    expect(second?.unreadCount).toBe(2);
    expect(third?.lastMessage).toBeNull();
    expect(third?.unreadCount).toBe(0);
    const handles = await t.server.deps.db
      .select({ id: schema.users.id, handle: schema.users.handle })
      .from(schema.users);
    const handleOf = new Map(handles.map((u) => [u.id, u.handle]));
    expect(second?.members).toEqual(
      [me, c, d]
        .map((p) => ({ id: p.user.id, displayName: p.displayName, handle: handleOf.get(p.user.id) }))
        .sort((x, y) => x.displayName.localeCompare(y.displayName)),
    );
    // Pages: one at a time, the same order.
    const page1 = await me.api.chat.dms.list.query({ limit: 1 });
    const page2 = await me.api.chat.dms.list.query({ limit: 1, cursor: page1.nextCursor ?? 0 });
    expect([...page1.items, ...page2.items].map((dm) => dm.id)).toEqual([withB.id, group.id]);
  });
});

describe("blocks", () => {
  it("block, list and unblock; blocking yourself is BAD_REQUEST, an unknown user NOT_FOUND", async () => {
    const [a, b] = await Promise.all([signUp(t, "Ann"), signUp(t, "Ben")]);
    await a.api.chat.blocks.block.mutate({ userId: b.user.id });
    await a.api.chat.blocks.block.mutate({ userId: b.user.id });
    const listed = await a.api.chat.blocks.list.query();
    expect(listed.items.map((x) => [x.userId, x.displayName])).toEqual([[b.user.id, "Ben"]]);
    expect((await b.api.chat.blocks.list.query()).items).toEqual([]);
    expect(await codeOf(a.api.chat.blocks.block.mutate({ userId: a.user.id }))).toBe("BAD_REQUEST");
    expect(await codeOf(a.api.chat.blocks.block.mutate({ userId: "no-such-user" }))).toBe("NOT_FOUND");
    await a.api.chat.blocks.unblock.mutate({ userId: b.user.id });
    await a.api.chat.blocks.unblock.mutate({ userId: b.user.id });
    expect((await a.api.chat.blocks.list.query()).items).toEqual([]);
  });

  it("a block refuses a new DM either way and every send in the existing 1:1 DM, with a clear FORBIDDEN; unblocking restores both", async () => {
    const [a, b, c] = await Promise.all([signUp(t, "Ann"), signUp(t, "Ben"), signUp(t, "Cy")]);
    const dm = await a.api.chat.dms.open.mutate({ userIds: [b.user.id] });
    await a.api.chat.blocks.block.mutate({ userId: b.user.id });
    expect(await rejectionOf(b.api.chat.dms.open.mutate({ userIds: [a.user.id] }))).toEqual({
      code: "FORBIDDEN",
      message: "You cannot message this person: one of you has blocked the other",
    });
    expect(await codeOf(a.api.chat.dms.open.mutate({ userIds: [b.user.id] }))).toBe("FORBIDDEN");
    expect(await rejectionOf(b.api.chat.dms.open.mutate({ userIds: [a.user.id, c.user.id] }))).toEqual({
      code: "FORBIDDEN",
      message: "You cannot start a conversation with someone you blocked or who blocked you",
    });
    // A third person's group with both: theirs to open; Ann simply never sees Ben's messages in it.
    const group = await c.api.chat.dms.open.mutate({ userIds: [a.user.id, b.user.id] });
    expect(group.members).toHaveLength(3);

    expect(await rejectionOf(send(b.api, dm.id, "let me explain"))).toEqual({
      code: "FORBIDDEN",
      message: "You cannot send here: this person has blocked you",
    });
    expect(await rejectionOf(send(a.api, dm.id, "one more thing"))).toEqual({
      code: "FORBIDDEN",
      message: "You blocked this person: unblock them to send here",
    });
    const stored = await t.server.deps.db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.roomId, dm.id));
    expect(stored).toEqual([]);
    // Sends in the group are not refused.
    await send(b.api, group.id, "hello group");

    await a.api.chat.blocks.unblock.mutate({ userId: b.user.id });
    await send(b.api, dm.id, "sorry");
    expect((await b.api.chat.dms.open.mutate({ userIds: [a.user.id] })).id).toBe(dm.id);
  });

  it("hides the blocked user's messages from the blocker in history, search, last message, unread counts and live events, and from nobody else", async () => {
    const { owner: blocker, room } = await roomWith(t, false, "Blocks");
    const [blocked, other] = await Promise.all([signUp(t, "Blocked"), signUp(t, "Other")]);
    await blocked.api.chat.rooms.join.mutate({ roomId: room.id });
    await other.api.chat.rooms.join.mutate({ roomId: room.id });
    const before = await send(blocked.api, room.id, "before the block");
    // Subscribed before the block: the set is reloaded over the bus.
    const blockerLive = collectRoomEvents(blocker.api, room.id);
    const otherLive = collectRoomEvents(other.api, room.id);
    await Promise.all([blockerLive.started(), otherLive.started()]);
    await blocker.api.chat.blocks.block.mutate({ userId: blocked.user.id });
    const word = uniqueWord();
    await send(blocked.api, room.id, `hidden ${word}`);
    await send(other.api, room.id, `shown ${word}`);
    await send(blocked.api, room.id, "hidden again");
    await otherLive.until(() => contentsOf(otherLive.items).length === 3);
    await blockerLive.until(() => contentsOf(blockerLive.items).includes(`shown ${word}`));
    // Opened after the block: the set is read with the access snapshot. Resumed from before it all.
    const blockerResumed = collectRoomEvents(blocker.api, room.id, String(before.seq - 1));
    const otherResumed = collectRoomEvents(other.api, room.id, String(before.seq - 1));
    await otherResumed.until(() => contentsOf(otherResumed.items).length === 4);
    await blockerResumed.until(() => contentsOf(blockerResumed.items).includes(`shown ${word}`));
    // A hidden event still moves the blocker's stream past it: what follows arrives once.
    await send(other.api, room.id, "after");
    for (const c of [blockerLive, blockerResumed, otherLive, otherResumed]) {
      await c.until(() => contentsOf(c.items).includes("after"));
    }

    expect(contentsOf(blockerLive.items)).toEqual([`shown ${word}`, "after"]);
    expect(contentsOf(blockerResumed.items)).toEqual([`shown ${word}`, "after"]);
    expect(contentsOf(otherLive.items)).toEqual([`hidden ${word}`, `shown ${word}`, "hidden again", "after"]);
    expect(contentsOf(otherResumed.items)).toEqual([
      "before the block",
      `hidden ${word}`,
      `shown ${word}`,
      "hidden again",
      "after",
    ]);
    for (const c of [blockerResumed, otherLive, otherResumed]) c.unsubscribe();

    const history = async (api: ParleyClient) =>
      (await api.chat.messages.list.query({ roomId: room.id })).items.map((m) => m.content);
    expect(await history(blocker.api)).toEqual(["after", `shown ${word}`]);
    expect(await history(other.api)).toEqual([
      "after",
      "hidden again",
      `shown ${word}`,
      `hidden ${word}`,
      "before the block",
    ]);
    const found = async (api: ParleyClient) =>
      (await api.chat.messages.search.query({ query: word })).items.map((m) => m.content).sort();
    expect(await found(blocker.api)).toEqual([`shown ${word}`]);
    expect(await found(other.api)).toEqual([`hidden ${word}`, `shown ${word}`]);

    await send(blocked.api, room.id, "the newest");
    const listed = (await blocker.api.chat.rooms.list.query({ search: "Blocks", limit: 100 })).items.find(
      (r) => r.id === room.id,
    );
    expect(listed?.lastMessage?.content).toBe("after");
    expect(listed?.unreadCount).toBe(2);

    // Unblocked: everything shows again, on the subscription open since before the block too.
    await blocker.api.chat.blocks.unblock.mutate({ userId: blocked.user.id });
    expect(await history(blocker.api)).toHaveLength(6);
    await send(blocked.api, room.id, "visible now");
    await blockerLive.until(() => contentsOf(blockerLive.items).includes("visible now"));
    expect(contentsOf(blockerLive.items)).toEqual([`shown ${word}`, "after", "visible now"]);
    blockerLive.unsubscribe();
  });

  it("the blocked user's edits and deletions (their own or a moderator's) never reach the blocker, live or resumed; everyone else gets them, with the author's userId", async () => {
    const { owner: blocker, room } = await roomWith(t, false, "Blocked edits");
    const [blocked, other] = await Promise.all([signUp(t, "Blocked"), signUp(t, "Other")]);
    await blocked.api.chat.rooms.join.mutate({ roomId: room.id });
    await other.api.chat.rooms.join.mutate({ roomId: room.id });
    const first = await send(blocked.api, room.id, "written before the block");
    const second = await send(blocked.api, room.id, "another");
    await blocker.api.chat.blocks.block.mutate({ userId: blocked.user.id });
    const blockerLive = collectRoomEvents(blocker.api, room.id);
    const otherLive = collectRoomEvents(other.api, room.id);
    await Promise.all([blockerLive.started(), otherLive.started()]);
    await blocked.api.chat.messages.edit.mutate({ messageId: first.id, content: "edited after the block" });
    await blocked.api.chat.messages.delete.mutate({ messageId: first.id });
    // The blocker owns the room: their own deletion of the blocked user's message is not sent back either.
    await blocker.api.chat.messages.delete.mutate({ messageId: second.id });
    const last = await send(other.api, room.id, "the end");
    for (const c of [blockerLive, otherLive]) await c.until(() => contentsOf(c.items).includes("the end"));
    const blockerResumed = collectRoomEvents(blocker.api, room.id, String(second.seq));
    await blockerResumed.until(() => contentsOf(blockerResumed.items).includes("the end"));

    const shapes = (events: RoomEvent[]) =>
      events.map((e) =>
        e.type === "message.created"
          ? { type: e.type, userId: e.message.userId }
          : "messageId" in e && "userId" in e
            ? { type: e.type, messageId: e.messageId, userId: e.userId }
            : { type: e.type },
      );
    expect(shapes(otherLive.items)).toEqual([
      { type: "message.updated", messageId: first.id, userId: blocked.user.id },
      { type: "message.deleted", messageId: first.id, userId: blocked.user.id },
      { type: "message.deleted", messageId: second.id, userId: blocked.user.id },
      { type: "message.created", userId: other.user.id },
    ]);
    for (const c of [blockerLive, blockerResumed]) {
      expect(shapes(c.items)).toEqual([{ type: "message.created", userId: other.user.id }]);
      expect(c.items.at(-1)?.seq).toBe(last.seq);
    }
    for (const c of [blockerLive, blockerResumed, otherLive]) c.unsubscribe();
  });
});
