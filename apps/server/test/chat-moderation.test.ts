import { randomUUID } from "node:crypto";
import type { ParleyClient } from "@parley/client";
import { schema } from "@parley/db";
import {
  codeOf,
  fieldErrorsOf,
  makeAdmin,
  rejectionOf,
  roomWith,
  send,
  signUp,
} from "@parley/testing/chat-fixtures";
import { collectRoomEvents } from "@parley/testing/event-collector";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const MINUTE = 60_000;

/** The server's clock, moved by the tests: mutes and bans expire by it. */
let now = Date.now();
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ clock: () => new Date(now) });
});
afterAll(() => t.close());

/** An owner, a moderator and a plain member in a new room. */
async function staffedRoom(isPrivate = false) {
  const { owner, room } = await roomWith(t, isPrivate);
  const moderator = await signUp(t, "Moderator");
  const member = await signUp(t, "Member");
  for (const person of [moderator, member]) {
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: person.user.id });
  }
  await owner.api.chat.moderation.setRole.mutate({
    roomId: room.id,
    userId: moderator.user.id,
    role: "moderator",
  });
  return { owner, moderator, member, room };
}

async function auditActions(roomId: string) {
  const rows = await t.server.deps.db
    .select({
      action: schema.auditLog.action,
      actorId: schema.auditLog.actorId,
      targetId: schema.auditLog.targetId,
    })
    .from(schema.auditLog)
    .where(eq(schema.auditLog.roomId, roomId))
    .orderBy(schema.auditLog.id);
  return rows;
}

async function roleOf(roomId: string, userId: string) {
  const [row] = await t.server.deps.db
    .select({ role: schema.roomMembers.role })
    .from(schema.roomMembers)
    .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, userId)));
  return row?.role ?? null;
}

const sendIn = (api: ParleyClient, roomId: string, content: string) =>
  api.chat.messages.send.mutate({ roomId, content, clientMessageId: randomUUID() });

describe("room roles", () => {
  it("the owner promotes a member to moderator and demotes them, and every subscriber sees both", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    const carol = await signUp(t, "Carol");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    await carol.api.chat.rooms.join.mutate({ roomId: room.id });
    const watching = collectRoomEvents(carol.api, room.id);
    await watching.started();

    await owner.api.chat.moderation.setRole.mutate({
      roomId: room.id,
      userId: bob.user.id,
      role: "moderator",
    });
    expect(await roleOf(room.id, bob.user.id)).toBe("moderator");
    const dave = await signUp(t, "Dave");
    await bob.api.chat.rooms.invite.mutate({ roomId: room.id, userId: dave.user.id });

    await owner.api.chat.moderation.setRole.mutate({ roomId: room.id, userId: bob.user.id, role: "member" });
    // No longer a moderator at once: the membership cache heard of the change.
    expect(await codeOf(bob.api.chat.rooms.kick.mutate({ roomId: room.id, userId: dave.user.id }))).toBe(
      "FORBIDDEN",
    );

    const roleEvents = () => watching.items.filter((e) => e.type === "member.role_changed");
    await watching.until(() => roleEvents().length === 2);
    expect(roleEvents()).toEqual([
      expect.objectContaining({ userId: bob.user.id, role: "moderator" }),
      expect.objectContaining({ userId: bob.user.id, role: "member" }),
    ]);
    watching.unsubscribe();
    expect((await auditActions(room.id)).filter((a) => a.action === "room.role_changed")).toEqual([
      { action: "room.role_changed", actorId: owner.user.id, targetId: bob.user.id },
      { action: "room.role_changed", actorId: owner.user.id, targetId: bob.user.id },
    ]);
  });

  it("only the owner changes roles or transfers: a moderator and a member are FORBIDDEN, an outsider of a private room NOT_FOUND", async () => {
    const { moderator, member, room } = await staffedRoom(true);
    const outsider = await signUp(t, "Outsider");
    const target = { roomId: room.id, userId: member.user.id };
    expect(await codeOf(moderator.api.chat.moderation.setRole.mutate({ ...target, role: "moderator" }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(member.api.chat.moderation.setRole.mutate({ ...target, role: "moderator" }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(outsider.api.chat.moderation.setRole.mutate({ ...target, role: "moderator" }))).toBe(
      "NOT_FOUND",
    );
    expect(await codeOf(moderator.api.chat.moderation.transferOwnership.mutate(target))).toBe("FORBIDDEN");
    expect(await codeOf(outsider.api.chat.moderation.transferOwnership.mutate(target))).toBe("NOT_FOUND");
    expect(await roleOf(room.id, member.user.id)).toBe("member");
  });

  it("transfers ownership: rooms.owner_id and both roles change together, the old owner stays as a moderator", async () => {
    const { owner, member, room } = await staffedRoom();
    await owner.api.chat.moderation.transferOwnership.mutate({ roomId: room.id, userId: member.user.id });

    const [stored] = await t.server.deps.db.select().from(schema.rooms).where(eq(schema.rooms.id, room.id));
    expect(stored?.ownerId).toBe(member.user.id);
    expect(await roleOf(room.id, member.user.id)).toBe("owner");
    expect(await roleOf(room.id, owner.user.id)).toBe("moderator");
    expect((await member.api.chat.rooms.get.query({ roomId: room.id })).myRole).toBe("owner");
    // The old owner lost the owner's powers at once, and may now leave.
    expect(
      await codeOf(
        owner.api.chat.moderation.setRole.mutate({ roomId: room.id, userId: member.user.id, role: "member" }),
      ),
    ).toBe("FORBIDDEN");
    await owner.api.chat.rooms.leave.mutate({ roomId: room.id });
    expect((await auditActions(room.id)).map((a) => a.action)).toContain("room.ownership_transferred");
  });

  it("refuses to change the owner's role other than by a transfer, and a role for a non-member", async () => {
    const { owner, room } = await roomWith(t, false);
    const stranger = await signUp(t, "Stranger");
    expect(
      await codeOf(
        owner.api.chat.moderation.setRole.mutate({ roomId: room.id, userId: owner.user.id, role: "member" }),
      ),
    ).toBe("BAD_REQUEST");
    expect(
      await codeOf(
        owner.api.chat.moderation.setRole.mutate({
          roomId: room.id,
          userId: stranger.user.id,
          role: "moderator",
        }),
      ),
    ).toBe("NOT_FOUND");
    expect(
      await codeOf(
        owner.api.chat.moderation.transferOwnership.mutate({ roomId: room.id, userId: stranger.user.id }),
      ),
    ).toBe("NOT_FOUND");
    expect(await roleOf(room.id, owner.user.id)).toBe("owner");
  });
});

describe("mutes", () => {
  it("a muted member reads but cannot send, react or edit until the mute expires by the server's clock", async () => {
    const { moderator, member, room } = await staffedRoom();
    const earlier = await send(member.api, room.id, "before the mute");
    const other = await send(moderator.api, room.id, "a moderator's message");
    const { expiresAt } = await moderator.api.chat.moderation.mute.mutate({
      roomId: room.id,
      userId: member.user.id,
      durationMinutes: 10,
    });
    expect(expiresAt).toBe(new Date(now + 10 * MINUTE).toISOString());

    const refusal = await rejectionOf(sendIn(member.api, room.id, "let me speak"));
    expect(refusal).toEqual({ code: "FORBIDDEN", message: `You are muted in this room until ${expiresAt}` });
    expect(await codeOf(member.api.chat.messages.react.mutate({ messageId: other.id, emoji: "👍" }))).toBe(
      "FORBIDDEN",
    );
    expect(
      await codeOf(member.api.chat.messages.edit.mutate({ messageId: earlier.id, content: "edited" })),
    ).toBe("FORBIDDEN");
    // Reading goes on.
    expect((await member.api.chat.messages.list.query({ roomId: room.id })).items.length).toBe(2);
    expect((await moderator.api.chat.moderation.restrictions.query({ roomId: room.id })).items).toEqual([
      expect.objectContaining({ userId: member.user.id, kind: "mute" }),
    ]);

    now += 10 * MINUTE + 1;
    await sendIn(member.api, room.id, "free again");
    expect((await moderator.api.chat.moderation.restrictions.query({ roomId: room.id })).items).toEqual([]);
    expect((await auditActions(room.id)).map((a) => a.action)).toContain("room.member_muted");
  });

  it("a muted member's retry of a send committed before the mute (same clientMessageId) returns the first message; a new send is FORBIDDEN", async () => {
    const { owner, member, room } = await staffedRoom();
    const clientMessageId = randomUUID();
    const first = await member.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "sent before the mute",
      clientMessageId,
    });
    await owner.api.chat.moderation.mute.mutate({ roomId: room.id, userId: member.user.id });
    const retry = await member.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "sent before the mute",
      clientMessageId,
    });
    expect(retry).toEqual(first);
    expect(await codeOf(sendIn(member.api, room.id, "a new one"))).toBe("FORBIDDEN");
    expect((await owner.api.chat.messages.list.query({ roomId: room.id })).items.map((m) => m.id)).toEqual([
      first.id,
    ]);
  });

  it("a retry of a send committed before its word was blocklisted returns the first message; a new send of it is BAD_REQUEST", async () => {
    const { owner, member, room } = await staffedRoom();
    const clientMessageId = randomUUID();
    const input = { roomId: room.id, content: "a grumpy word", clientMessageId };
    const first = await member.api.chat.messages.send.mutate(input);
    await owner.api.chat.moderation.blocklist.add.mutate({ roomId: room.id, word: "grumpy" });
    expect(await member.api.chat.messages.send.mutate(input)).toEqual(first);
    expect(await codeOf(sendIn(member.api, room.id, "grumpy again"))).toBe("BAD_REQUEST");
  });

  it("a mute without expiry holds until unmuted", async () => {
    const { owner, member, room } = await staffedRoom();
    await owner.api.chat.moderation.mute.mutate({ roomId: room.id, userId: member.user.id });
    now += 7 * 24 * 60 * MINUTE;
    expect(await rejectionOf(sendIn(member.api, room.id, "still?"))).toEqual({
      code: "FORBIDDEN",
      message: "You are muted in this room until lifted",
    });
    expect(
      await owner.api.chat.moderation.unmute.mutate({ roomId: room.id, userId: member.user.id }),
    ).toEqual({
      ok: true,
      lifted: true,
    });
    await sendIn(member.api, room.id, "thanks");
    expect((await auditActions(room.id)).map((a) => a.action)).toEqual(
      expect.arrayContaining(["room.member_muted", "room.member_unmuted"]),
    );
  });

  it("a moderator cannot mute the owner or another moderator, the owner can mute a moderator, nobody mutes themselves", async () => {
    const { owner, moderator, room } = await staffedRoom();
    const second = await signUp(t, "Second moderator");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: second.user.id });
    await owner.api.chat.moderation.setRole.mutate({
      roomId: room.id,
      userId: second.user.id,
      role: "moderator",
    });
    const mute = (api: ParleyClient, userId: string) =>
      codeOf(api.chat.moderation.mute.mutate({ roomId: room.id, userId }));
    expect(await mute(moderator.api, owner.user.id)).toBe("FORBIDDEN");
    expect(await mute(moderator.api, second.user.id)).toBe("FORBIDDEN");
    expect(
      await codeOf(moderator.api.chat.moderation.ban.mutate({ roomId: room.id, userId: second.user.id })),
    ).toBe("FORBIDDEN");
    expect(await mute(moderator.api, moderator.user.id)).toBe("BAD_REQUEST");
    expect(await mute(owner.api, owner.user.id)).toBe("BAD_REQUEST");
    await sendIn(second.api, room.id, "not muted");
    await owner.api.chat.moderation.mute.mutate({ roomId: room.id, userId: second.user.id });
    expect(await codeOf(sendIn(second.api, room.id, "muted now"))).toBe("FORBIDDEN");
  });

  it("a plain member cannot mute, ban or see the restrictions", async () => {
    const { moderator, member, room } = await staffedRoom();
    const target = { roomId: room.id, userId: moderator.user.id };
    expect(await codeOf(member.api.chat.moderation.mute.mutate(target))).toBe("FORBIDDEN");
    expect(await codeOf(member.api.chat.moderation.ban.mutate(target))).toBe("FORBIDDEN");
    expect(await codeOf(member.api.chat.moderation.restrictions.query({ roomId: room.id }))).toBe(
      "FORBIDDEN",
    );
  });
});

describe("bans", () => {
  it("a ban removes the member, ends their subscription with FORBIDDEN and refuses their rejoin until it expires", async () => {
    const { moderator, member, room } = await staffedRoom();
    const theirs = collectRoomEvents(member.api, room.id);
    await theirs.started();
    await moderator.api.chat.moderation.ban.mutate({
      roomId: room.id,
      userId: member.user.id,
      durationMinutes: 60,
    });
    await theirs.until(() => theirs.error() !== undefined);
    expect(theirs.error()?.data?.code).toBe("FORBIDDEN");
    expect(await roleOf(room.id, member.user.id)).toBeNull();

    const rejoin = await rejectionOf(member.api.chat.rooms.join.mutate({ roomId: room.id }));
    expect(rejoin.code).toBe("FORBIDDEN");
    expect(rejoin.message).toMatch(/^You are banned from this room until /);
    expect(
      await codeOf(moderator.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id })),
    ).toBe("FORBIDDEN");
    expect(await roleOf(room.id, member.user.id)).toBeNull();

    now += 61 * MINUTE;
    await member.api.chat.rooms.join.mutate({ roomId: room.id });
    expect(await roleOf(room.id, member.user.id)).toBe("member");
    expect((await auditActions(room.id)).map((a) => a.action)).toContain("room.member_banned");
  });

  it("a user banned from a private room cannot be invited back (FORBIDDEN) and finds the room NOT_FOUND, until unbanned", async () => {
    const { owner, member, room } = await staffedRoom(true);
    await owner.api.chat.moderation.ban.mutate({ roomId: room.id, userId: member.user.id });
    expect(await codeOf(member.api.chat.rooms.join.mutate({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(await codeOf(member.api.chat.rooms.get.query({ roomId: room.id }))).toBe("NOT_FOUND");
    expect(
      await codeOf(owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id })),
    ).toBe("FORBIDDEN");

    await owner.api.chat.moderation.unban.mutate({ roomId: room.id, userId: member.user.id });
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id });
    expect(await roleOf(room.id, member.user.id)).toBe("member");
    expect((await auditActions(room.id)).map((a) => a.action)).toEqual(
      expect.arrayContaining(["room.member_banned", "room.member_unbanned"]),
    );
  });

  it("a ban and a join racing on the same room never leave the banned user a member", async () => {
    for (let round = 0; round < 30; round++) {
      const { owner, room } = await roomWith(t, false);
      const troll = await signUp(t, "Troll");
      await Promise.allSettled([
        troll.api.chat.rooms.join.mutate({ roomId: room.id }),
        owner.api.chat.moderation.ban.mutate({ roomId: room.id, userId: troll.user.id }),
      ]);
      expect({ round, role: await roleOf(room.id, troll.user.id) }).toEqual({ round, role: null });
    }
  });
});

describe("reports", () => {
  async function reportedMessage() {
    const staffed = await staffedRoom();
    const author = await signUp(t, "Author");
    await author.api.chat.rooms.join.mutate({ roomId: staffed.room.id });
    const message = await send(author.api, staffed.room.id, "something rude");
    const report = await staffed.member.api.chat.moderation.report.mutate({
      messageId: message.id,
      reason: "rude",
    });
    return { ...staffed, author, message, report };
  }

  it("a member reports a message once (again returns the same report) and never their own", async () => {
    const { member, author, message, report, room } = await reportedMessage();
    expect(
      await member.api.chat.moderation.report.mutate({ messageId: message.id, reason: "again" }),
    ).toEqual(report);
    expect(
      await codeOf(author.api.chat.moderation.report.mutate({ messageId: message.id, reason: "me" })),
    ).toBe("FORBIDDEN");
    const stored = await t.server.deps.db
      .select()
      .from(schema.messageReports)
      .where(eq(schema.messageReports.roomId, room.id));
    expect(stored).toHaveLength(1);
  });

  it("the room's moderators and admins see the queue; a plain member is FORBIDDEN, an outsider of a private room NOT_FOUND", async () => {
    const { moderator, member, report, room } = await reportedMessage();
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    expect(
      (await moderator.api.chat.moderation.reports.query({ roomId: room.id })).items.map((r) => r.id),
    ).toEqual([report.id]);
    expect((await moderator.api.chat.moderation.reports.query()).items.map((r) => r.id)).toContain(report.id);
    expect((await admin.api.chat.moderation.reports.query()).items.map((r) => r.id)).toContain(report.id);
    expect(await codeOf(member.api.chat.moderation.reports.query({ roomId: room.id }))).toBe("FORBIDDEN");
    // Without a room: only the rooms the caller moderates, none for a plain member.
    expect((await member.api.chat.moderation.reports.query()).items).toEqual([]);
    expect(
      await codeOf(
        member.api.chat.moderation.resolveReport.mutate({ reportId: report.id, action: "dismiss" }),
      ),
    ).toBe("NOT_FOUND");

    const secret = await staffedRoom(true);
    const outsider = await signUp(t, "Outsider");
    expect(await codeOf(outsider.api.chat.moderation.reports.query({ roomId: secret.room.id }))).toBe(
      "NOT_FOUND",
    );
  });

  it("resolving with delete deletes the message and closes every open report on it", async () => {
    const { moderator, owner, message, report, room } = await reportedMessage();
    const second = await owner.api.chat.moderation.report.mutate({
      messageId: message.id,
      reason: "also rude",
    });
    expect(
      await moderator.api.chat.moderation.resolveReport.mutate({ reportId: report.id, action: "delete" }),
    ).toEqual({
      ok: true,
      closedReports: 2,
    });
    const [stored] = await t.server.deps.db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.id, message.id));
    expect(stored?.deletedAt).not.toBeNull();
    const closed = await moderator.api.chat.moderation.reports.query({ roomId: room.id, status: "resolved" });
    expect(closed.items.map((r) => r.id).sort()).toEqual([report.id, second.id].sort());
    expect(
      await codeOf(
        moderator.api.chat.moderation.resolveReport.mutate({ reportId: second.id, action: "dismiss" }),
      ),
    ).toBe("CONFLICT");
    expect((await auditActions(room.id)).map((a) => a.action)).toEqual(
      expect.arrayContaining(["room.message_deleted", "room.report_resolved"]),
    );
  });

  it("resolving with mute mutes the author for the given minutes", async () => {
    const { moderator, author, report, room } = await reportedMessage();
    await moderator.api.chat.moderation.resolveReport.mutate({
      reportId: report.id,
      action: "mute",
      durationMinutes: 5,
    });
    expect(await codeOf(sendIn(author.api, room.id, "hello?"))).toBe("FORBIDDEN");
    now += 5 * MINUTE + 1;
    await sendIn(author.api, room.id, "back");
    expect((await auditActions(room.id)).map((a) => a.action)).toEqual(
      expect.arrayContaining(["room.member_muted", "room.report_resolved"]),
    );
  });

  it("resolving with ban bans the author from the room", async () => {
    const { moderator, author, report, room } = await reportedMessage();
    await moderator.api.chat.moderation.resolveReport.mutate({ reportId: report.id, action: "ban" });
    expect(await roleOf(room.id, author.user.id)).toBeNull();
    expect(await codeOf(author.api.chat.rooms.join.mutate({ roomId: room.id }))).toBe("FORBIDDEN");
    expect((await auditActions(room.id)).map((a) => a.action)).toEqual(
      expect.arrayContaining(["room.member_banned", "room.report_resolved"]),
    );
  });

  it("dismissing leaves the message and marks the report dismissed", async () => {
    const { moderator, message, report, room } = await reportedMessage();
    await moderator.api.chat.moderation.resolveReport.mutate({ reportId: report.id, action: "dismiss" });
    const [stored] = await t.server.deps.db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.id, message.id));
    expect(stored?.deletedAt).toBeNull();
    expect((await moderator.api.chat.moderation.reports.query({ roomId: room.id })).items).toEqual([]);
    const dismissed = await moderator.api.chat.moderation.reports.query({
      roomId: room.id,
      status: "dismissed",
    });
    expect(dismissed.items).toEqual([expect.objectContaining({ id: report.id, resolution: "dismiss" })]);
    expect((await auditActions(room.id)).map((a) => a.action)).toContain("room.report_resolved");
  });
});

describe("word blocklists", () => {
  it("a room's blocked word is refused as a whole word after NFKC and case folding, on send and edit, without echoing the list", async () => {
    const { owner, member, room } = await staffedRoom();
    const earlier = await send(member.api, room.id, "fine words");
    await owner.api.chat.moderation.blocklist.add.mutate({ roomId: room.id, word: "Bad" });
    expect(
      (await owner.api.chat.moderation.blocklist.list.query({ roomId: room.id })).items.map((w) => w.word),
    ).toEqual(["bad"]);
    for (const content of ["bad", "this is ＢＡＤ", "Bad idea", "BAD!"]) {
      const refusal = await rejectionOf(sendIn(member.api, room.id, content));
      expect({ content, code: refusal.code }).toEqual({ content, code: "BAD_REQUEST" });
      expect(refusal.message).not.toMatch(/bad/i);
    }
    expect(Object.keys(await fieldErrorsOf(sendIn(member.api, room.id, "Bad")))).toEqual(["content"]);
    expect(
      await codeOf(member.api.chat.messages.edit.mutate({ messageId: earlier.id, content: "ＢＡＤ" })),
    ).toBe("BAD_REQUEST");
    // Whole words only: "badge" and "sinbad" are other words.
    await sendIn(member.api, room.id, "my badge, says sinbad");

    await owner.api.chat.moderation.blocklist.remove.mutate({ roomId: room.id, word: "BAD" });
    await sendIn(member.api, room.id, "bad is fine again");
    expect((await auditActions(room.id)).filter((a) => a.action === "room.blocklist_changed")).toHaveLength(
      2,
    );
  });

  it("a room's list applies in that room only, and a plain member cannot change or read it", async () => {
    const { owner, member, room } = await staffedRoom();
    const other = await roomWith(t, false);
    await owner.api.chat.moderation.blocklist.add.mutate({ roomId: room.id, word: "spoiler" });
    await sendIn(other.owner.api, other.room.id, "spoiler ahead");
    expect(
      await codeOf(member.api.chat.moderation.blocklist.add.mutate({ roomId: room.id, word: "x" })),
    ).toBe("FORBIDDEN");
    expect(await codeOf(member.api.chat.moderation.blocklist.list.query({ roomId: room.id }))).toBe(
      "FORBIDDEN",
    );
  });

  it("the global list, kept by admins, refuses a word in every room", async () => {
    const admin = await signUp(t, "Admin");
    await makeAdmin(t, admin.user.id);
    const { owner, room } = await roomWith(t, false);
    const word = `glob${randomUUID()
      .slice(0, 8)
      .replace(/[0-9-]/g, "x")}`;
    await admin.api.admin.blocklist.add.mutate({ word: word.toUpperCase() });
    expect((await admin.api.admin.blocklist.list.query()).items.map((w) => w.word)).toContain(word);
    expect(await codeOf(sendIn(owner.api, room.id, `say ${word}`))).toBe("BAD_REQUEST");
    expect(await codeOf(owner.api.admin.blocklist.add.mutate({ word: "nope" }))).toBe("FORBIDDEN");
    await admin.api.admin.blocklist.remove.mutate({ word });
    await sendIn(owner.api, room.id, `say ${word}`);
    const audit = await t.server.deps.db
      .select({ details: schema.auditLog.details })
      .from(schema.auditLog)
      .where(
        and(eq(schema.auditLog.action, "room.blocklist_changed"), eq(schema.auditLog.actorId, admin.user.id)),
      );
    expect(audit).toHaveLength(2);
  });
});

describe("moderation's audit entries for the existing actions", () => {
  it("a kick and a moderator's deletion of another's message each leave their audit row", async () => {
    const { moderator, member, room } = await staffedRoom();
    const message = await send(member.api, room.id, "remove me");
    await moderator.api.chat.messages.delete.mutate({ messageId: message.id });
    await moderator.api.chat.rooms.kick.mutate({ roomId: room.id, userId: member.user.id });
    const actions = await auditActions(room.id);
    expect(actions).toEqual(
      expect.arrayContaining([
        { action: "room.message_deleted", actorId: moderator.user.id, targetId: message.id },
        { action: "room.member_kicked", actorId: moderator.user.id, targetId: member.user.id },
      ]),
    );
  });
});
