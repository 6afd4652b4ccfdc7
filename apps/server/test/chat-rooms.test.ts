import { randomUUID } from "node:crypto";
import type { ParleyClient } from "@parley/client";
import { schema } from "@parley/db";
import {
  codeOf,
  every,
  fieldErrorsOf,
  makeAdmin,
  must,
  outcomes,
  rejectionOf,
  roomWith,
  send,
  setRoomRole,
  signUp,
  storedMessages,
  uniqueWord,
} from "@parley/testing/chat-fixtures";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** Walks every page of rooms.list and returns the ids seen. */
async function allListedRoomIds(api: ParleyClient, search?: string) {
  const ids: string[] = [];
  let cursor: number | undefined;
  for (;;) {
    const page = await api.chat.rooms.list.query({ limit: 100, cursor, search });
    ids.push(...page.items.map((r) => r.id));
    if (page.nextCursor === null) return ids;
    cursor = page.nextCursor;
  }
}

async function roomsOwnedBy(userId: string) {
  return t.server.deps.db.select().from(schema.rooms).where(eq(schema.rooms.ownerId, userId));
}

describe("access rules shared by every chat procedure", () => {
  it("anonymous callers get UNAUTHORIZED from every rooms procedure", async () => {
    const { owner, room } = await roomWith(t, false);
    const anon = t.client();
    const roomId = room.id;
    const userId = owner.user.id;
    const calls = {
      create: () => anon.chat.rooms.create.mutate({ name: "Nope", isPrivate: false }),
      list: () => anon.chat.rooms.list.query(),
      get: () => anon.chat.rooms.get.query({ roomId }),
      update: () => anon.chat.rooms.update.mutate({ roomId, name: "Nope" }),
      delete: () => anon.chat.rooms.delete.mutate({ roomId }),
      join: () => anon.chat.rooms.join.mutate({ roomId }),
      leave: () => anon.chat.rooms.leave.mutate({ roomId }),
      invite: () => anon.chat.rooms.invite.mutate({ roomId, userId }),
      kick: () => anon.chat.rooms.kick.mutate({ roomId, userId }),
      members: () => anon.chat.rooms.members.query({ roomId }),
      markRead: () => anon.chat.rooms.markRead.mutate({ roomId, seq: 1 }),
    };
    expect(await outcomes(calls)).toEqual(every(calls, "UNAUTHORIZED"));
    expect(await owner.api.chat.rooms.get.query({ roomId })).toMatchObject({ name: "Room", memberCount: 1 });
  });

  it("a private room is NOT_FOUND to a signed-in outsider on every path, exactly like a nonexistent room", async () => {
    const word = uniqueWord();
    const { owner, room } = await roomWith(t, true, `Secret ${word}`);
    const member = await signUp(t, "Member");
    const friend = await signUp(t, "Friend");
    const outsider = await signUp(t, "Outsider");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id });
    const message = await send(owner.api, room.id, `secret plans ${word}`);
    const before = await owner.api.chat.rooms.get.query({ roomId: room.id });

    const api = outsider.api;
    const paths = (roomId: string, messageId: string) => ({
      "rooms.get": () => api.chat.rooms.get.query({ roomId }),
      "rooms.join": () => api.chat.rooms.join.mutate({ roomId }),
      "rooms.leave": () => api.chat.rooms.leave.mutate({ roomId }),
      "rooms.update": () => api.chat.rooms.update.mutate({ roomId, name: "Hijacked" }),
      "rooms.delete": () => api.chat.rooms.delete.mutate({ roomId }),
      "rooms.invite": () => api.chat.rooms.invite.mutate({ roomId, userId: friend.user.id }),
      "rooms.kick": () => api.chat.rooms.kick.mutate({ roomId, userId: member.user.id }),
      "rooms.members": () => api.chat.rooms.members.query({ roomId }),
      "rooms.markRead": () => api.chat.rooms.markRead.mutate({ roomId, seq: 1 }),
      "messages.send": () =>
        api.chat.messages.send.mutate({ roomId, content: "hi", clientMessageId: randomUUID() }),
      "messages.list": () => api.chat.messages.list.query({ roomId }),
      "messages.search": () => api.chat.messages.search.query({ query: word, roomId }),
      typing: () => api.chat.typing.mutate({ roomId }),
      "messages.edit": () => api.chat.messages.edit.mutate({ messageId, content: "edited" }),
      "messages.delete": () => api.chat.messages.delete.mutate({ messageId }),
      "messages.react": () => api.chat.messages.react.mutate({ messageId, emoji: "👍" }),
      "messages.unreact": () => api.chat.messages.unreact.mutate({ messageId, emoji: "👍" }),
    });

    const expected: Record<string, { code?: string; message: string }> = {};
    for (const [name, call] of Object.entries(paths(randomUUID(), randomUUID()))) {
      expected[name] = await rejectionOf(call());
      expect(expected[name]?.code, `${name} with a nonexistent id`).toBe("NOT_FOUND");
    }
    const actual: Record<string, { code?: string; message: string }> = {};
    for (const [name, call] of Object.entries(paths(room.id, message.id))) {
      actual[name] = await rejectionOf(call());
    }
    expect(actual).toEqual(expected);

    expect(await allListedRoomIds(api)).not.toContain(room.id);
    expect(await allListedRoomIds(api, word)).toEqual([]);
    const found = await api.chat.messages.search.query({ query: word });
    expect(found.items.map((m) => m.id)).not.toContain(message.id);

    // Nothing the outsider tried changed the room.
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toEqual(before);
    const members = await owner.api.chat.rooms.members.query({ roomId: room.id });
    expect(members.items.map((m) => m.userId).sort()).toEqual([owner.user.id, member.user.id].sort());
    const listed = await owner.api.chat.messages.list.query({ roomId: room.id });
    expect(listed.items).toMatchObject([
      { id: message.id, content: `secret plans ${word}`, editedAt: null, deletedAt: null, reactions: [] },
    ]);
    // The control: the same search finds it for a member.
    const forMember = await member.api.chat.messages.search.query({ query: word });
    expect(forMember.items.map((m) => m.id)).toEqual([message.id]);
  });
});

describe("chat.rooms.create", () => {
  it("creates a room whose creator is its owner and only member, with normalised text", async () => {
    const alice = await signUp(t, "Alice");
    const room = await alice.api.chat.rooms.create.mutate({
      name: "  Team   chat ",
      description: "  Where we talk\nabout things  ",
      isPrivate: true,
    });
    expect(room).toMatchObject({
      name: "Team chat",
      description: "Where we talk\nabout things",
      isPrivate: true,
      ownerId: alice.user.id,
      memberCount: 1,
      myRole: "owner",
    });
    expect(room.id).toMatch(/^[0-9a-f-]{36}$/);
    const members = await alice.api.chat.rooms.members.query({ roomId: room.id });
    expect(members.items).toMatchObject([{ userId: alice.user.id, role: "owner" }]);
    expect(await alice.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ name: "Team chat" });
  });

  it("refuses malformed room input with BAD_REQUEST and creates nothing", async () => {
    const alice = await signUp(t, "Alice");
    const bad: Record<string, unknown> = {
      "no input": undefined,
      "missing name": { isPrivate: false },
      "missing isPrivate": { name: "Room" },
      "empty name": { name: "", isPrivate: false },
      "whitespace name": { name: "   \n ", isPrivate: false },
      "81-character name": { name: "a".repeat(81), isPrivate: false },
      "NUL in name": { name: "a\u0000b", isPrivate: false },
      "number name": { name: 42, isPrivate: false },
      "string isPrivate": { name: "Room", isPrivate: "yes" },
      "NUL in description": { name: "Room", description: "x\u0000", isPrivate: false },
      "501-character description": { name: "Room", description: "d".repeat(501), isPrivate: false },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => alice.api.chat.rooms.create.mutate(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect(
      await fieldErrorsOf(alice.api.chat.rooms.create.mutate({ name: "a\u0000", isPrivate: false })),
    ).toHaveProperty("name");
    expect(await roomsOwnedBy(alice.user.id)).toEqual([]);
  });
});

describe("chat.rooms.list", () => {
  it("lists public rooms and the caller's private rooms with member count, last message, unread count and role", async () => {
    const word = uniqueWord();
    const alice = await signUp(t, "Alice");
    const bob = await signUp(t, "Bob");
    const carol = await signUp(t, "Carol");
    const pub = await alice.api.chat.rooms.create.mutate({ name: `${word} public`, isPrivate: false });
    const mine = await alice.api.chat.rooms.create.mutate({ name: `${word} mine`, isPrivate: true });
    const bobs = await bob.api.chat.rooms.create.mutate({ name: `${word} bobs`, isPrivate: true });
    await bob.api.chat.rooms.join.mutate({ roomId: pub.id });
    const hello = await send(bob.api, pub.id, "hello");

    const forAlice = await alice.api.chat.rooms.list.query({ search: word });
    expect(forAlice.nextCursor).toBeNull();
    expect(forAlice.items.map((r) => r.id).sort()).toEqual([pub.id, mine.id].sort());
    expect(forAlice.items.find((r) => r.id === pub.id)).toMatchObject({
      name: `${word} public`,
      isPrivate: false,
      memberCount: 2,
      myRole: "owner",
      unreadCount: 1,
      lastMessage: { id: hello.id, seq: hello.seq, userId: bob.user.id, content: "hello" },
    });
    expect(forAlice.items.find((r) => r.id === mine.id)).toMatchObject({
      isPrivate: true,
      memberCount: 1,
      myRole: "owner",
      unreadCount: 0,
      lastMessage: null,
    });

    const forCarol = await carol.api.chat.rooms.list.query({ search: word });
    expect(forCarol.items).toMatchObject([{ id: pub.id, myRole: null, unreadCount: 0, memberCount: 2 }]);
    const forBob = await bob.api.chat.rooms.list.query({ search: word });
    expect(forBob.items.map((r) => r.id).sort()).toEqual([pub.id, bobs.id].sort());
    expect(forBob.items.find((r) => r.id === pub.id)).toMatchObject({ myRole: "member", unreadCount: 0 });
  });

  it("pages newest first with limit and cursor, without gaps or repeats", async () => {
    const word = uniqueWord();
    const alice = await signUp(t, "Alice");
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const room = await alice.api.chat.rooms.create.mutate({ name: `${word} ${i}`, isPrivate: i % 2 === 0 });
      created.push(room.id);
    }
    const pages: string[][] = [];
    const cursors: (number | null)[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await alice.api.chat.rooms.list.query({ search: word, limit: 2, cursor });
      pages.push(page.items.map((r) => r.id));
      cursors.push(page.nextCursor);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(cursors).toEqual([2, 4, null]);
    expect(pages.flat()).toEqual([...created].reverse());
  });

  it("search matches % and _ literally", async () => {
    const word = uniqueWord();
    const alice = await signUp(t, "Alice");
    const percent = await alice.api.chat.rooms.create.mutate({ name: `${word} 100%`, isPrivate: false });
    const underscore = await alice.api.chat.rooms.create.mutate({ name: `${word} a_b`, isPrivate: false });
    await alice.api.chat.rooms.create.mutate({ name: `${word} 1000`, isPrivate: false });
    await alice.api.chat.rooms.create.mutate({ name: `${word} axb`, isPrivate: false });
    const byPercent = await alice.api.chat.rooms.list.query({ search: `${word} 100%` });
    expect(byPercent.items.map((r) => r.id)).toEqual([percent.id]);
    const byUnderscore = await alice.api.chat.rooms.list.query({ search: `${word} a_b` });
    expect(byUnderscore.items.map((r) => r.id)).toEqual([underscore.id]);
  });

  it("refuses malformed list input with BAD_REQUEST", async () => {
    const alice = await signUp(t, "Alice");
    const bad: Record<string, unknown> = {
      "limit 0": { limit: 0 },
      "limit 101": { limit: 101 },
      "fractional limit": { limit: 1.5 },
      "string limit": { limit: "10" },
      "negative cursor": { cursor: -1 },
      "string cursor": { cursor: "abc" },
      "NUL in search": { search: "a\u0000" },
      "81-character search": { search: "s".repeat(81) },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => alice.api.chat.rooms.list.query(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
  });
});

describe("chat.rooms.get", () => {
  it("returns a public room to any signed-in user, without a role for non-members", async () => {
    const { owner, room } = await roomWith(t, false, "Lobby");
    const bob = await signUp(t, "Bob");
    expect(await bob.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({
      id: room.id,
      name: "Lobby",
      isPrivate: false,
      ownerId: owner.user.id,
      memberCount: 1,
      myRole: null,
    });
  });

  it("returns a private room to its members and to admins", async () => {
    const { owner, room } = await roomWith(t, true, "Hideout");
    const member = await signUp(t, "Member");
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id });
    expect(await member.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({
      name: "Hideout",
      memberCount: 2,
      myRole: "member",
    });
    expect(await admin.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({
      name: "Hideout",
      myRole: null,
    });
  });

  it("is BAD_REQUEST for a malformed room id and NOT_FOUND for an unknown one", async () => {
    const alice = await signUp(t, "Alice");
    for (const roomId of ["nope", "", "00000000-0000-0000-0000-00000000000g", `${randomUUID()}\u0000`, 42]) {
      expect(await codeOf(alice.api.chat.rooms.get.query({ roomId } as never)), String(roomId)).toBe(
        "BAD_REQUEST",
      );
    }
    expect(await codeOf(alice.api.chat.rooms.get.query(undefined as never))).toBe("BAD_REQUEST");
    expect(await codeOf(alice.api.chat.rooms.get.query({ roomId: randomUUID() }))).toBe("NOT_FOUND");
  });
});

describe("chat.rooms.update", () => {
  it("lets the owner rename, redescribe and change visibility", async () => {
    const { owner, room } = await roomWith(t, false);
    const updated = await owner.api.chat.rooms.update.mutate({
      roomId: room.id,
      name: "  New   name ",
      description: "About",
      isPrivate: true,
    });
    expect(updated).toMatchObject({ id: room.id, name: "New name", description: "About", isPrivate: true });
    const cleared = await owner.api.chat.rooms.update.mutate({ roomId: room.id, description: null });
    expect(cleared).toMatchObject({ name: "New name", description: null, isPrivate: true });
    const outsider = await signUp(t, "Outsider");
    expect(await codeOf(outsider.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
  });

  it("lets an admin who is not a member update a private room", async () => {
    const { owner, room } = await roomWith(t, true);
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    await admin.api.chat.rooms.update.mutate({ roomId: room.id, name: "Moderated" });
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ name: "Moderated" });
  });

  it("refuses moderators, members and non-members with FORBIDDEN and changes nothing", async () => {
    const { owner, room } = await roomWith(t, false, "Original");
    const moderator = await signUp(t, "Moderator");
    const member = await signUp(t, "Member");
    const stranger = await signUp(t, "Stranger");
    await member.api.chat.rooms.join.mutate({ roomId: room.id });
    await moderator.api.chat.rooms.join.mutate({ roomId: room.id });
    await setRoomRole(t, room.id, moderator.user.id, "moderator");
    for (const who of [moderator, member, stranger]) {
      expect(
        await codeOf(who.api.chat.rooms.update.mutate({ roomId: room.id, name: "Taken", isPrivate: true })),
        who.user.displayName,
      ).toBe("FORBIDDEN");
    }
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({
      name: "Original",
      isPrivate: false,
    });
  });

  it("refuses malformed update input with BAD_REQUEST and changes nothing", async () => {
    const { owner, room } = await roomWith(t, false, "Original");
    const roomId = room.id;
    const bad: Record<string, unknown> = {
      "nothing to update": { roomId },
      "bad room id": { roomId: "nope", name: "X" },
      "missing room id": { name: "X" },
      "empty name": { roomId, name: "" },
      "whitespace name": { roomId, name: "   " },
      "NUL in name": { roomId, name: "X\u0000" },
      "NUL in description": { roomId, description: "\u0000" },
      "81-character name": { roomId, name: "n".repeat(81) },
      "string isPrivate": { roomId, isPrivate: "true" },
      "number name": { roomId, name: 7 },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => owner.api.chat.rooms.update.mutate(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect(await owner.api.chat.rooms.get.query({ roomId })).toMatchObject({
      name: "Original",
      description: null,
      isPrivate: false,
      lastSeq: room.lastSeq,
    });
  });
});

describe("chat.rooms.delete", () => {
  it("lets the owner delete the room with its messages", async () => {
    const { owner, room } = await roomWith(t, false);
    await send(owner.api, room.id, "soon gone");
    expect(await owner.api.chat.rooms.delete.mutate({ roomId: room.id })).toEqual({ ok: true });
    expect(await codeOf(owner.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(await codeOf(owner.api.chat.messages.list.query({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(await storedMessages(t, room.id)).toEqual([]);
  });

  it("lets an admin who is not a member delete a private room", async () => {
    const { owner, room } = await roomWith(t, true);
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    await admin.api.chat.rooms.delete.mutate({ roomId: room.id });
    expect(await codeOf(owner.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
  });

  it("refuses moderators, members and non-members with FORBIDDEN and keeps the room", async () => {
    const { owner, room } = await roomWith(t, false);
    const moderator = await signUp(t, "Moderator");
    const member = await signUp(t, "Member");
    const stranger = await signUp(t, "Stranger");
    await member.api.chat.rooms.join.mutate({ roomId: room.id });
    await setRoomRole(t, room.id, moderator.user.id, "moderator");
    for (const who of [moderator, member, stranger]) {
      expect(await codeOf(who.api.chat.rooms.delete.mutate({ roomId: room.id })), who.user.displayName).toBe(
        "FORBIDDEN",
      );
    }
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ memberCount: 3 });
  });

  it("refuses a malformed room id with BAD_REQUEST and an unknown one with NOT_FOUND", async () => {
    const { owner, room } = await roomWith(t, false);
    for (const input of [{ roomId: "x" }, { roomId: 1 }, {}, undefined, { roomId: `${room.id}\u0000` }]) {
      expect(await codeOf(owner.api.chat.rooms.delete.mutate(input as never))).toBe("BAD_REQUEST");
    }
    expect(await codeOf(owner.api.chat.rooms.delete.mutate({ roomId: randomUUID() }))).toBe("NOT_FOUND");
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ id: room.id });
  });
});

describe("chat.rooms.join", () => {
  it("joins a public room once, however often it is called", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    expect(await bob.api.chat.rooms.join.mutate({ roomId: room.id })).toMatchObject({
      id: room.id,
      myRole: "member",
      memberCount: 2,
    });
    expect(await bob.api.chat.rooms.join.mutate({ roomId: room.id })).toMatchObject({ memberCount: 2 });
    const members = await owner.api.chat.rooms.members.query({ roomId: room.id });
    expect(members.items.map((m) => [m.userId, m.role])).toEqual([
      [owner.user.id, "owner"],
      [bob.user.id, "member"],
    ]);
  });

  it("refuses an admin joining a private room with FORBIDDEN: private rooms are joined by invitation", async () => {
    const { owner, room } = await roomWith(t, true);
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    expect(await codeOf(admin.api.chat.rooms.join.mutate({ roomId: room.id }))).toBe("FORBIDDEN");
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ memberCount: 1 });
  });

  it("refuses a malformed room id with BAD_REQUEST and an unknown one with NOT_FOUND", async () => {
    const bob = await signUp(t, "Bob");
    for (const input of [{ roomId: "x" }, { roomId: null }, {}, { roomId: `${randomUUID()}\u0000` }]) {
      expect(await codeOf(bob.api.chat.rooms.join.mutate(input as never))).toBe("BAD_REQUEST");
    }
    expect(await codeOf(bob.api.chat.rooms.join.mutate({ roomId: randomUUID() }))).toBe("NOT_FOUND");
  });
});

describe("chat.rooms.leave", () => {
  it("a member leaves, and a private room is NOT_FOUND to them afterwards", async () => {
    const { owner, room } = await roomWith(t, true);
    const bob = await signUp(t, "Bob");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
    expect(await bob.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ myRole: "member" });
    expect(await bob.api.chat.rooms.leave.mutate({ roomId: room.id })).toEqual({ ok: true });
    expect(await codeOf(bob.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ memberCount: 1 });
  });

  it("a member leaves a public room and can still read it", async () => {
    const { room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    await bob.api.chat.rooms.leave.mutate({ roomId: room.id });
    expect(await bob.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({
      myRole: null,
      memberCount: 1,
    });
  });

  it("the owner cannot leave: BAD_REQUEST", async () => {
    const { owner, room } = await roomWith(t, false);
    expect(await codeOf(owner.api.chat.rooms.leave.mutate({ roomId: room.id }))).toBe("BAD_REQUEST");
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ myRole: "owner" });
  });

  it("leaving a public room one is not in is FORBIDDEN", async () => {
    const { room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    expect(await codeOf(bob.api.chat.rooms.leave.mutate({ roomId: room.id }))).toBe("FORBIDDEN");
  });

  it("refuses a malformed room id with BAD_REQUEST and an unknown one with NOT_FOUND", async () => {
    const bob = await signUp(t, "Bob");
    for (const input of [
      { roomId: "x" },
      { roomId: 3 },
      {},
      undefined,
      { roomId: `${randomUUID()}\u0000` },
    ]) {
      expect(await codeOf(bob.api.chat.rooms.leave.mutate(input as never))).toBe("BAD_REQUEST");
    }
    expect(await codeOf(bob.api.chat.rooms.leave.mutate({ roomId: randomUUID() }))).toBe("NOT_FOUND");
  });
});

describe("chat.rooms.invite", () => {
  it("the owner, a moderator and an admin can invite; invitees can then read the private room", async () => {
    const { owner, room } = await roomWith(t, true);
    const moderator = await signUp(t, "Moderator");
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    const [a, b, c] = [await signUp(t, "A"), await signUp(t, "B"), await signUp(t, "C")];
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: moderator.user.id });
    await setRoomRole(t, room.id, moderator.user.id, "moderator");

    expect(await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: a.user.id })).toEqual({
      ok: true,
    });
    await moderator.api.chat.rooms.invite.mutate({ roomId: room.id, userId: b.user.id });
    await admin.api.chat.rooms.invite.mutate({ roomId: room.id, userId: c.user.id });
    for (const invitee of [a, b, c]) {
      expect(await invitee.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ myRole: "member" });
    }
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ memberCount: 5 });
  });

  it("a plain member cannot invite: FORBIDDEN", async () => {
    const { owner, room } = await roomWith(t, true);
    const member = await signUp(t, "Member");
    const friend = await signUp(t, "Friend");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id });
    expect(
      await codeOf(member.api.chat.rooms.invite.mutate({ roomId: room.id, userId: friend.user.id })),
    ).toBe("FORBIDDEN");
    expect(await codeOf(friend.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
  });

  it("inviting an existing member is CONFLICT", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    expect(await codeOf(owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id }))).toBe(
      "CONFLICT",
    );
    expect(await codeOf(owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: owner.user.id }))).toBe(
      "CONFLICT",
    );
  });

  it("inviting an unknown user is NOT_FOUND", async () => {
    const { owner, room } = await roomWith(t, false);
    expect(
      await codeOf(owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: "no-such-user-123" })),
    ).toBe("NOT_FOUND");
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ memberCount: 1 });
  });

  it("refuses malformed invite input with BAD_REQUEST and adds no one", async () => {
    const { owner, room } = await roomWith(t, false);
    const roomId = room.id;
    const bad: Record<string, unknown> = {
      "bad room id": { roomId: "x", userId: owner.user.id },
      "missing user id": { roomId },
      "empty user id": { roomId, userId: "" },
      "user id with spaces": { roomId, userId: "bad id" },
      "user id with quote": { roomId, userId: "x'; drop table users; --" },
      "NUL in user id": { roomId, userId: "abc\u0000" },
      "65-character user id": { roomId, userId: "u".repeat(65) },
      "number user id": { roomId, userId: 5 },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => owner.api.chat.rooms.invite.mutate(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect(await owner.api.chat.rooms.get.query({ roomId })).toMatchObject({ memberCount: 1 });
  });
});

describe("chat.rooms.kick", () => {
  it("the owner kicks a member, who then gets NOT_FOUND for the private room", async () => {
    const { owner, room } = await roomWith(t, true);
    const bob = await signUp(t, "Bob");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
    await send(bob.api, room.id, "I was here");
    expect(await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id })).toEqual({
      ok: true,
    });
    expect(await codeOf(bob.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(await codeOf(bob.api.chat.messages.list.query({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(await codeOf(send(bob.api, room.id, "let me back"))).toBe("NOT_FOUND");
    expect(await codeOf(bob.api.chat.rooms.members.query({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(await allListedRoomIds(bob.api)).not.toContain(room.id);
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ memberCount: 1 });
  });

  it("a moderator kicks a member", async () => {
    const { owner, room } = await roomWith(t, true);
    const moderator = await signUp(t, "Moderator");
    const bob = await signUp(t, "Bob");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
    await setRoomRole(t, room.id, moderator.user.id, "moderator");
    await moderator.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id });
    expect(await codeOf(bob.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
  });

  it("moderators cannot kick moderators; the owner can", async () => {
    const { owner, room } = await roomWith(t, true);
    const mod1 = await signUp(t, "Mod 1");
    const mod2 = await signUp(t, "Mod 2");
    await setRoomRole(t, room.id, mod1.user.id, "moderator");
    await setRoomRole(t, room.id, mod2.user.id, "moderator");
    expect(await codeOf(mod1.api.chat.rooms.kick.mutate({ roomId: room.id, userId: mod2.user.id }))).toBe(
      "FORBIDDEN",
    );
    expect(await mod2.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ myRole: "moderator" });
    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: mod2.user.id });
    expect(await codeOf(mod2.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
  });

  it("nobody kicks the owner: a moderator and an admin get FORBIDDEN, the owner themself BAD_REQUEST", async () => {
    const { owner, room } = await roomWith(t, true);
    const moderator = await signUp(t, "Moderator");
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    await setRoomRole(t, room.id, moderator.user.id, "moderator");
    for (const who of [moderator, admin]) {
      expect(
        await codeOf(who.api.chat.rooms.kick.mutate({ roomId: room.id, userId: owner.user.id })),
        who.user.displayName,
      ).toBe("FORBIDDEN");
    }
    // Nor the owner themself: leaving is for that (and the owner cannot leave either).
    expect(await codeOf(owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: owner.user.id }))).toBe(
      "BAD_REQUEST",
    );
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ myRole: "owner" });
  });

  it("an admin who is not a member kicks from a private room", async () => {
    const { owner, room } = await roomWith(t, true);
    const admin = await signUp(t, "Admin");
    const bob = await signUp(t, "Bob");
    await makeAdmin(t, admin.user.id);
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
    await admin.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id });
    expect(await codeOf(bob.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
  });

  it("a plain member cannot kick: FORBIDDEN", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    const carol = await signUp(t, "Carol");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    await carol.api.chat.rooms.join.mutate({ roomId: room.id });
    expect(await codeOf(bob.api.chat.rooms.kick.mutate({ roomId: room.id, userId: carol.user.id }))).toBe(
      "FORBIDDEN",
    );
    expect(await owner.api.chat.rooms.get.query({ roomId: room.id })).toMatchObject({ memberCount: 3 });
  });

  it("kicking someone who is not a member, or an unknown user, is NOT_FOUND", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    expect(await codeOf(owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id }))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: "nobody-1" }))).toBe(
      "NOT_FOUND",
    );
  });

  it("refuses malformed kick input with BAD_REQUEST and removes no one", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const roomId = room.id;
    const bad: Record<string, unknown> = {
      "bad room id": { roomId: "x", userId: bob.user.id },
      "missing user id": { roomId },
      "empty user id": { roomId, userId: "" },
      "NUL in user id": { roomId, userId: `${bob.user.id}\u0000` },
      "array user id": { roomId, userId: [bob.user.id] },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => owner.api.chat.rooms.kick.mutate(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    expect(await owner.api.chat.rooms.get.query({ roomId })).toMatchObject({ memberCount: 2 });
  });
});

describe("chat.rooms.members", () => {
  it("lists members with their role and online flag", async () => {
    const { owner, room } = await roomWith(t, true);
    const moderator = await signUp(t, "Moderator");
    const bob = await signUp(t, "Bob");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: moderator.user.id });
    await setRoomRole(t, room.id, moderator.user.id, "moderator");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
    const page = await bob.api.chat.rooms.members.query({ roomId: room.id });
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((m) => ({ userId: m.userId, role: m.role, online: m.online }))).toEqual([
      { userId: owner.user.id, role: "owner", online: false },
      { userId: moderator.user.id, role: "moderator", online: false },
      { userId: bob.user.id, role: "member", online: false },
    ]);
    expect(page.items.map((m) => m.displayName)).toEqual(["Owner", "Moderator", "Bob"]);
  });

  it("non-members of a public room get FORBIDDEN", async () => {
    const { room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    expect(await codeOf(bob.api.chat.rooms.members.query({ roomId: room.id }))).toBe("FORBIDDEN");
  });

  it("refuses malformed members input with BAD_REQUEST", async () => {
    const { owner, room } = await roomWith(t, false);
    for (const input of [
      { roomId: "x" },
      { roomId: `${room.id}\u0000` },
      { roomId: room.id, cursor: -1 },
      { roomId: room.id, cursor: "a" },
      {},
    ]) {
      expect(await codeOf(owner.api.chat.rooms.members.query(input as never)), JSON.stringify(input)).toBe(
        "BAD_REQUEST",
      );
    }
  });
});

describe("chat.rooms.markRead", () => {
  it("moves the read marker forward only, and rooms.list unread counts follow it; own messages are never unread", async () => {
    const word = uniqueWord();
    const { owner, room } = await roomWith(t, false, `${word} room`);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const unread = async (who: typeof owner) => {
      const list = await who.api.chat.rooms.list.query({ search: word });
      return must(
        list.items.find((r) => r.id === room.id),
        "room in list",
      ).unreadCount;
    };
    const sent = [];
    for (const text of ["one", "two", "three"]) sent.push(await send(bob.api, room.id, text));
    await send(owner.api, room.id, "owner's own");
    const [m1, m2, m3] = sent.map((m) => m.seq);

    expect(await unread(owner)).toBe(3);
    expect(await unread(bob)).toBe(1);
    expect(await owner.api.chat.rooms.markRead.mutate({ roomId: room.id, seq: must(m2) })).toEqual({
      lastReadSeq: m2,
    });
    expect(await unread(owner)).toBe(1);
    // Backwards is ignored: the marker stays.
    expect(await owner.api.chat.rooms.markRead.mutate({ roomId: room.id, seq: must(m1) })).toEqual({
      lastReadSeq: m2,
    });
    expect(await unread(owner)).toBe(1);
    await owner.api.chat.rooms.markRead.mutate({ roomId: room.id, seq: must(m3) });
    expect(await unread(owner)).toBe(0);
    await send(bob.api, room.id, "four");
    expect(await unread(owner)).toBe(1);
  });

  it("never moves the marker past the room's last seq, so later messages are unread", async () => {
    const word = uniqueWord();
    const { owner, room } = await roomWith(t, false, `${word} room`);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const last = await send(bob.api, room.id, "hi");
    expect(await owner.api.chat.rooms.markRead.mutate({ roomId: room.id, seq: 1_000_000 })).toEqual({
      lastReadSeq: last.seq,
    });
    await send(bob.api, room.id, "later");
    const list = await owner.api.chat.rooms.list.query({ search: word });
    expect(list.items).toMatchObject([{ id: room.id, unreadCount: 1 }]);
  });

  it("non-members of a public room get FORBIDDEN", async () => {
    const { room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    expect(await codeOf(bob.api.chat.rooms.markRead.mutate({ roomId: room.id, seq: 1 }))).toBe("FORBIDDEN");
  });

  it("refuses malformed markRead input with BAD_REQUEST and leaves the marker", async () => {
    const word = uniqueWord();
    const { owner, room } = await roomWith(t, false, `${word} room`);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    await send(bob.api, room.id, "unread");
    const roomId = room.id;
    const bad: Record<string, unknown> = {
      "negative seq": { roomId, seq: -1 },
      "fractional seq": { roomId, seq: 1.5 },
      "string seq": { roomId, seq: "5" },
      "missing seq": { roomId },
      "unsafe integer seq": { roomId, seq: 2 ** 60 },
      "bad room id": { roomId: "nope", seq: 1 },
      "NUL in room id": { roomId: `${roomId}\u0000`, seq: 1 },
    };
    const calls = Object.fromEntries(
      Object.entries(bad).map(([name, input]) => [
        name,
        () => owner.api.chat.rooms.markRead.mutate(input as never),
      ]),
    );
    expect(await outcomes(calls)).toEqual(every(calls, "BAD_REQUEST"));
    const list = await owner.api.chat.rooms.list.query({ search: word });
    expect(list.items).toMatchObject([{ id: room.id, unreadCount: 1 }]);
  });
});
