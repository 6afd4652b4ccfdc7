import { type Queryable, schema } from "@parley/db";
import type { ReportAction, ReportStatus, RestrictionKind } from "@parley/db/enums";
import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { DomainError, messageNotFound } from "../errors.ts";
import { deleteAttachmentsOf } from "./attachments-service.ts";
import { recordAudit } from "./audit-log.ts";
import type { Caller, ChatDeps, RoomRole } from "./chat-deps.ts";
import { announceMembershipChange } from "./membership-cache.ts";
import { announceModerationChange, normaliseForBlocklist } from "./moderation-cache.ts";
import { appendRoomEvent, publishRoomEvents, type RoomEvent } from "./room-events.ts";
import { adminOverrideSql, adminOverrides } from "./room-visibility.ts";
import { readableRoom, requireMember } from "./rooms-service.ts";

type Room = typeof schema.rooms.$inferSelect;

const reportNotFound = () => new DomainError("not-found", "No such report");

/** `room`: the room's kind, for the admin rule (room-visibility.ts: an admin never moderates a DM). */
function moderates(caller: Caller, room: { kind: string }, role: RoomRole | null) {
  return adminOverrides(caller, room) || role === "owner" || role === "moderator";
}

/** A room the caller may see and moderate; DMs have no roles or sanctions. */
async function moderatedRoom(deps: ChatDeps, caller: Caller, roomId: string, what: string) {
  const access = await readableRoom(deps, caller, roomId);
  if (!moderates(caller, access.room, access.myRole)) {
    throw new DomainError("forbidden", `Only the room's owner or a moderator can ${what}`);
  }
  return access;
}

function refuseDm(room: Room) {
  if (room.kind === "dm") throw new DomainError("invalid", "Direct messages have no roles or moderation");
}

async function lockRoom(tx: Queryable, roomId: string): Promise<Room> {
  const [room] = await tx.select().from(schema.rooms).where(eq(schema.rooms.id, roomId)).for("update");
  if (!room) throw new DomainError("not-found", "No such room");
  return room;
}

async function memberRole(tx: Queryable, roomId: string, userId: string): Promise<RoomRole | null> {
  const [row] = await tx
    .select({ role: schema.roomMembers.role })
    .from(schema.roomMembers)
    .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, userId)))
    .for("update");
  return row?.role ?? null;
}

async function settle(deps: ChatDeps, events: RoomEvent[], membersChanged: string[], rulesOf: string | null) {
  const roomId = events[0]?.roomId;
  for (const userId of membersChanged) {
    if (roomId) await announceMembershipChange(deps.bus, { roomId, userId });
  }
  if (rulesOf !== null) await announceModerationChange(deps.bus, { roomId: rulesOf });
  await publishRoomEvents(deps.bus, events);
}

// ---- roles ----

/** The owner (or an admin) makes a member a moderator or a moderator a member. */
export async function setRole(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; userId: string; role: "moderator" | "member" },
) {
  const access = await readableRoom(deps, caller, input.roomId);
  if (!adminOverrides(caller, access.room) && access.myRole !== "owner") {
    throw new DomainError("forbidden", "Only the room's owner can change roles");
  }
  refuseDm(access.room);
  const result = await deps.db.transaction(async (tx) => {
    await lockRoom(tx, input.roomId);
    const current = await memberRole(tx, input.roomId, input.userId);
    if (!current) throw new DomainError("not-found", "Not a member of this room");
    if (current === "owner") {
      throw new DomainError("invalid", "The owner's role changes only by transferring ownership");
    }
    if (current === input.role) return null;
    await tx
      .update(schema.roomMembers)
      .set({ role: input.role })
      .where(and(eq(schema.roomMembers.roomId, input.roomId), eq(schema.roomMembers.userId, input.userId)));
    await recordAudit(tx, {
      action: "room.role_changed",
      actorId: caller.id,
      targetType: "user",
      targetId: input.userId,
      roomId: input.roomId,
      details: { from: current, to: input.role },
      at: deps.clock(),
    });
    return appendRoomEvent(tx, input.roomId, caller.id, {
      type: "member.role_changed",
      userId: input.userId,
      role: input.role,
    });
  });
  if (result) await settle(deps, [result], [input.userId], null);
  return { ok: true as const, changed: result !== null };
}

/** The owner (or an admin) hands the room to another member; the old owner stays as a moderator. */
export async function transferOwnership(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; userId: string },
) {
  const access = await readableRoom(deps, caller, input.roomId);
  if (!adminOverrides(caller, access.room) && access.myRole !== "owner") {
    throw new DomainError("forbidden", "Only the room's owner can transfer ownership");
  }
  refuseDm(access.room);
  const { events, previousOwner } = await deps.db.transaction(async (tx) => {
    const room = await lockRoom(tx, input.roomId);
    if (room.ownerId === input.userId) throw new DomainError("invalid", "This user already owns the room");
    if (caller.role !== "admin" && room.ownerId !== caller.id) {
      throw new DomainError("forbidden", "Only the room's owner can transfer ownership");
    }
    const targetRole = await memberRole(tx, input.roomId, input.userId);
    if (!targetRole) throw new DomainError("not-found", "Not a member of this room");
    await tx
      .update(schema.rooms)
      .set({ ownerId: input.userId, updatedAt: deps.clock() })
      .where(eq(schema.rooms.id, room.id));
    const setMemberRole = (userId: string, role: RoomRole) =>
      tx
        .update(schema.roomMembers)
        .set({ role })
        .where(and(eq(schema.roomMembers.roomId, room.id), eq(schema.roomMembers.userId, userId)));
    await setMemberRole(room.ownerId, "moderator");
    await setMemberRole(input.userId, "owner");
    await recordAudit(tx, {
      action: "room.ownership_transferred",
      actorId: caller.id,
      targetType: "user",
      targetId: input.userId,
      roomId: room.id,
      details: { from: room.ownerId, to: input.userId },
      at: deps.clock(),
    });
    const demoted = await appendRoomEvent(tx, room.id, caller.id, {
      type: "member.role_changed",
      userId: room.ownerId,
      role: "moderator",
    });
    const promoted = await appendRoomEvent(tx, room.id, caller.id, {
      type: "member.role_changed",
      userId: input.userId,
      role: "owner",
    });
    return { events: [demoted, promoted], previousOwner: room.ownerId };
  });
  await settle(deps, events, [previousOwner, input.userId], null);
  return { ok: true as const };
}

// ---- mutes and bans ----

/**
 * Who may sanction whom: never oneself, never the owner; a moderator only plain members (and
 * outsiders, for a ban in advance); the owner and admins moderators too.
 */
function refuseSanction(
  caller: Caller,
  callerRole: RoomRole | null,
  targetId: string,
  targetRole: RoomRole | null,
) {
  if (targetId === caller.id) throw new DomainError("invalid", "You cannot mute or ban yourself");
  if (targetRole === "owner")
    throw new DomainError("forbidden", "The room's owner cannot be muted or banned");
  if (targetRole === "moderator" && caller.role !== "admin" && callerRole !== "owner") {
    throw new DomainError("forbidden", "Only the room's owner can mute or ban a moderator");
  }
}

async function userExists(tx: Queryable, userId: string) {
  const [user] = await tx
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(eq(schema.users.id, userId));
  if (!user) throw new DomainError("not-found", "No such user");
}

/**
 * Writes a mute or a ban inside `tx` (replacing an earlier one of the same kind) with its audit
 * entry and events; a ban also removes the member, which ends their subscriptions.
 */
async function imposeIn(
  tx: Queryable,
  deps: ChatDeps,
  caller: Caller,
  callerRole: RoomRole | null,
  input: {
    roomId: string;
    userId: string;
    kind: RestrictionKind;
    expiresAt: Date | null;
    reason: string | null;
  },
): Promise<RoomEvent[]> {
  await lockRoom(tx, input.roomId);
  await userExists(tx, input.userId);
  const targetRole = await memberRole(tx, input.roomId, input.userId);
  refuseSanction(caller, callerRole, input.userId, targetRole);
  const now = deps.clock();
  const values = { expiresAt: input.expiresAt, reason: input.reason, createdBy: caller.id, createdAt: now };
  await tx
    .insert(schema.roomRestrictions)
    .values({ roomId: input.roomId, userId: input.userId, kind: input.kind, ...values })
    .onConflictDoUpdate({
      target: [schema.roomRestrictions.roomId, schema.roomRestrictions.userId, schema.roomRestrictions.kind],
      set: values,
    });
  await recordAudit(tx, {
    action: input.kind === "mute" ? "room.member_muted" : "room.member_banned",
    actorId: caller.id,
    targetType: "user",
    targetId: input.userId,
    roomId: input.roomId,
    details: { expiresAt: input.expiresAt?.toISOString() ?? null, reason: input.reason },
    at: now,
  });
  const endsAt = input.expiresAt?.toISOString() ?? null;
  if (input.kind === "mute") {
    return [
      await appendRoomEvent(tx, input.roomId, caller.id, {
        type: "member.muted",
        userId: input.userId,
        until: endsAt,
      }),
    ];
  }
  const events = [
    await appendRoomEvent(tx, input.roomId, caller.id, {
      type: "member.banned",
      userId: input.userId,
      until: endsAt,
    }),
  ];
  if (targetRole) {
    await tx
      .delete(schema.roomMembers)
      .where(and(eq(schema.roomMembers.roomId, input.roomId), eq(schema.roomMembers.userId, input.userId)));
    events.push(
      await appendRoomEvent(tx, input.roomId, caller.id, {
        type: "member.left",
        userId: input.userId,
        kicked: true,
      }),
    );
  }
  return events;
}

function expiryOf(deps: ChatDeps, durationMinutes: number | undefined): Date | null {
  return durationMinutes === undefined ? null : new Date(deps.clock().getTime() + durationMinutes * 60_000);
}

export async function restrict(
  deps: ChatDeps,
  caller: Caller,
  kind: RestrictionKind,
  input: { roomId: string; userId: string; durationMinutes?: number; reason?: string },
) {
  const access = await moderatedRoom(deps, caller, input.roomId, kind);
  refuseDm(access.room);
  const expiresAt = expiryOf(deps, input.durationMinutes);
  const events = await deps.db.transaction((tx) =>
    imposeIn(tx, deps, caller, access.myRole, { ...input, kind, expiresAt, reason: input.reason || null }),
  );
  await settle(deps, events, kind === "ban" ? [input.userId] : [], input.roomId);
  return { ok: true as const, expiresAt: expiresAt?.toISOString() ?? null };
}

/** Lifts a mute or a ban; lifting one that is not there changes nothing. */
export async function lift(
  deps: ChatDeps,
  caller: Caller,
  kind: RestrictionKind,
  input: { roomId: string; userId: string },
) {
  const access = await moderatedRoom(deps, caller, input.roomId, kind === "mute" ? "unmute" : "unban");
  refuseDm(access.room);
  const event = await deps.db.transaction(async (tx) => {
    const removed = await tx
      .delete(schema.roomRestrictions)
      .where(
        and(
          eq(schema.roomRestrictions.roomId, input.roomId),
          eq(schema.roomRestrictions.userId, input.userId),
          eq(schema.roomRestrictions.kind, kind),
        ),
      )
      .returning({ userId: schema.roomRestrictions.userId });
    if (removed.length === 0) return null;
    await recordAudit(tx, {
      action: kind === "mute" ? "room.member_unmuted" : "room.member_unbanned",
      actorId: caller.id,
      targetType: "user",
      targetId: input.userId,
      roomId: input.roomId,
      at: deps.clock(),
    });
    return appendRoomEvent(tx, input.roomId, caller.id, {
      type: kind === "mute" ? "member.unmuted" : "member.unbanned",
      userId: input.userId,
    });
  });
  if (event) await settle(deps, [event], [], input.roomId);
  return { ok: true as const, lifted: event !== null };
}

/** The room's mutes and bans in force now (by the service's clock), newest first. */
export async function listRestrictions(deps: ChatDeps, caller: Caller, roomId: string) {
  await moderatedRoom(deps, caller, roomId, "see its mutes and bans");
  const r = schema.roomRestrictions;
  const rows = await deps.db
    .select({
      userId: r.userId,
      displayName: schema.users.displayName,
      kind: r.kind,
      expiresAt: r.expiresAt,
      reason: r.reason,
      createdBy: r.createdBy,
      createdAt: r.createdAt,
    })
    .from(r)
    .innerJoin(schema.users, eq(schema.users.id, r.userId))
    .where(and(eq(r.roomId, roomId), or(isNull(r.expiresAt), gt(r.expiresAt, deps.clock()))))
    .orderBy(desc(r.createdAt), r.userId);
  return { items: rows };
}

// ---- reports ----

/** A member reports someone else's message; reporting it again returns the first report. */
export async function reportMessage(
  deps: ChatDeps,
  caller: Caller,
  input: { messageId: string; reason: string },
) {
  const [message] = await deps.db
    .select()
    .from(schema.messages)
    .where(eq(schema.messages.id, input.messageId));
  if (!message || message.deletedAt) throw messageNotFound();
  try {
    await readableRoom(deps, caller, message.roomId);
    await requireMember(deps, caller, message.roomId);
  } catch (error) {
    if (error instanceof DomainError && error.kind === "not-found") throw messageNotFound();
    throw error;
  }
  if (message.userId === caller.id) throw new DomainError("forbidden", "You cannot report your own message");
  const [created] = await deps.db
    .insert(schema.messageReports)
    .values({ messageId: message.id, roomId: message.roomId, reporterId: caller.id, reason: input.reason })
    .onConflictDoNothing()
    .returning({ id: schema.messageReports.id, status: schema.messageReports.status });
  if (created) return created;
  const [existing] = await deps.db
    .select({ id: schema.messageReports.id, status: schema.messageReports.status })
    .from(schema.messageReports)
    .where(
      and(eq(schema.messageReports.messageId, message.id), eq(schema.messageReports.reporterId, caller.id)),
    );
  if (!existing) throw new Error("a report that conflicted on insert is gone");
  return existing;
}

const REPORTS_PAGE = 50;

/**
 * The report queue: one room's (its owner and moderators, admins), or without `roomId` every room
 * the caller moderates (every room, for an admin). Open reports unless `status` says otherwise.
 */
export async function listReports(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId?: string; status?: ReportStatus; cursor?: number } = {},
) {
  if (input.roomId) await moderatedRoom(deps, caller, input.roomId, "see its reports");
  const offset = input.cursor ?? 0;
  const rep = schema.messageReports;
  const reporter = alias(schema.users, "reporter");
  const author = alias(schema.users, "author");
  const moderated = sql`(${adminOverrideSql(caller, schema.rooms.kind)} or exists (select 1 from room_members rm
      where rm.room_id = ${rep.roomId} and rm.user_id = ${caller.id} and rm.role in ('owner', 'moderator')))`;
  const rows = await deps.db
    .select({
      id: rep.id,
      roomId: rep.roomId,
      roomName: schema.rooms.name,
      messageId: rep.messageId,
      reason: rep.reason,
      status: rep.status,
      reporterId: rep.reporterId,
      reporterName: reporter.displayName,
      authorId: schema.messages.userId,
      authorName: author.displayName,
      content: sql<
        string | null
      >`case when ${schema.messages.deletedAt} is null then ${schema.messages.content} end`,
      resolution: rep.resolution,
      resolvedBy: rep.resolvedBy,
      resolvedAt: rep.resolvedAt,
      createdAt: rep.createdAt,
    })
    .from(rep)
    .innerJoin(schema.rooms, eq(schema.rooms.id, rep.roomId))
    .innerJoin(schema.messages, eq(schema.messages.id, rep.messageId))
    .innerJoin(reporter, eq(reporter.id, rep.reporterId))
    .innerJoin(author, eq(author.id, schema.messages.userId))
    .where(
      and(
        eq(rep.status, input.status ?? "open"),
        input.roomId ? eq(rep.roomId, input.roomId) : undefined,
        moderated,
      ),
    )
    .orderBy(desc(rep.createdAt), desc(rep.id))
    .limit(REPORTS_PAGE + 1)
    .offset(offset);
  return {
    items: rows.slice(0, REPORTS_PAGE),
    nextCursor: rows.length > REPORTS_PAGE ? offset + REPORTS_PAGE : null,
  };
}

/**
 * Acts on a report and closes every open report on the same message, in one transaction with
 * the action and its audit entries. A report the caller may not moderate is NOT_FOUND: only a
 * room's moderators and admins ever see report ids.
 */
export async function resolveReport(
  deps: ChatDeps,
  caller: Caller,
  input: { reportId: string; action: ReportAction; durationMinutes?: number },
) {
  const [report] = await deps.db
    .select()
    .from(schema.messageReports)
    .where(eq(schema.messageReports.id, input.reportId));
  if (!report) throw reportNotFound();
  const role = await deps.membership.role(report.roomId, caller.id);
  const [room] = await deps.db
    .select({ kind: schema.rooms.kind })
    .from(schema.rooms)
    .where(eq(schema.rooms.id, report.roomId));
  if (!room || !moderates(caller, room, role)) throw reportNotFound();
  if (report.status !== "open") throw new DomainError("conflict", "This report is already closed");
  const expiresAt = expiryOf(deps, input.durationMinutes);
  const result = await deps.db.transaction(async (tx) => {
    const now = deps.clock();
    const [message] = await tx.select().from(schema.messages).where(eq(schema.messages.id, report.messageId));
    if (!message) throw reportNotFound();
    const events: RoomEvent[] = [];
    if (input.action === "delete" && !message.deletedAt) {
      await lockRoom(tx, report.roomId);
      await tx
        .update(schema.messages)
        .set({ content: "", deletedAt: now })
        .where(and(eq(schema.messages.id, message.id), isNull(schema.messages.deletedAt)));
      await deleteAttachmentsOf(tx, message.id);
      await recordAudit(tx, {
        action: "room.message_deleted",
        actorId: caller.id,
        targetType: "message",
        targetId: message.id,
        roomId: report.roomId,
        details: { authorId: message.userId, reportId: report.id },
        at: now,
      });
      events.push(
        await appendRoomEvent(tx, report.roomId, caller.id, {
          type: "message.deleted",
          messageId: message.id,
          userId: message.userId,
          deletedAt: now.toISOString(),
        }),
      );
    }
    if (input.action === "mute" || input.action === "ban") {
      events.push(
        ...(await imposeIn(tx, deps, caller, role, {
          roomId: report.roomId,
          userId: message.userId,
          kind: input.action,
          expiresAt,
          reason: report.reason,
        })),
      );
    }
    const status: ReportStatus = input.action === "dismiss" ? "dismissed" : "resolved";
    const closed = await tx
      .update(schema.messageReports)
      .set({ status, resolvedBy: caller.id, resolution: input.action, resolvedAt: now })
      .where(and(eq(schema.messageReports.messageId, message.id), eq(schema.messageReports.status, "open")))
      .returning({ id: schema.messageReports.id });
    // Closed meanwhile by another moderator: their action stands, this one rolls back whole.
    if (!closed.some((row) => row.id === report.id)) {
      throw new DomainError("conflict", "This report is already closed");
    }
    await recordAudit(tx, {
      action: "room.report_resolved",
      actorId: caller.id,
      targetType: "report",
      targetId: report.id,
      roomId: report.roomId,
      details: { action: input.action, messageId: message.id, closedReports: closed.map((row) => row.id) },
      at: now,
    });
    return { events, closed: closed.length, authorId: message.userId };
  });
  const sanctioned = input.action === "mute" || input.action === "ban";
  await settle(
    deps,
    result.events,
    input.action === "ban" ? [result.authorId] : [],
    sanctioned ? report.roomId : null,
  );
  return { ok: true as const, closedReports: result.closed };
}

// ---- blocklists ----

function storedWord(word: string): string {
  const normalised = normaliseForBlocklist(word).trim();
  if (normalised.length === 0) throw new DomainError("invalid", "Is empty once normalised", "word");
  return normalised;
}

async function changeBlocklist(
  deps: ChatDeps,
  caller: Caller,
  roomId: string | null,
  word: string,
  add: boolean,
) {
  const normalised = storedWord(word);
  const scope = roomId === null ? isNull(schema.blockedWords.roomId) : eq(schema.blockedWords.roomId, roomId);
  const changed = await deps.db.transaction(async (tx) => {
    const rows = add
      ? await tx
          .insert(schema.blockedWords)
          .values({ roomId, word: normalised, createdBy: caller.id, createdAt: deps.clock() })
          .onConflictDoNothing()
          .returning({ id: schema.blockedWords.id })
      : await tx
          .delete(schema.blockedWords)
          .where(and(scope, eq(schema.blockedWords.word, normalised)))
          .returning({ id: schema.blockedWords.id });
    if (rows.length === 0) return false;
    await recordAudit(tx, {
      action: "room.blocklist_changed",
      actorId: caller.id,
      ...(roomId ? { targetType: "room" as const, targetId: roomId, roomId } : {}),
      details: { change: add ? "added" : "removed", word: normalised, scope: roomId ? "room" : "global" },
      at: deps.clock(),
    });
    return true;
  });
  if (changed) await announceModerationChange(deps.bus, { roomId });
  return { ok: true as const, word: normalised, changed };
}

async function listBlocklist(deps: ChatDeps, roomId: string | null) {
  const rows = await deps.db
    .select({
      word: schema.blockedWords.word,
      createdBy: schema.blockedWords.createdBy,
      createdAt: schema.blockedWords.createdAt,
    })
    .from(schema.blockedWords)
    .where(roomId === null ? isNull(schema.blockedWords.roomId) : eq(schema.blockedWords.roomId, roomId))
    .orderBy(schema.blockedWords.word);
  return { items: rows };
}

export async function addRoomWord(deps: ChatDeps, caller: Caller, input: { roomId: string; word: string }) {
  await moderatedRoom(deps, caller, input.roomId, "change its blocklist");
  return changeBlocklist(deps, caller, input.roomId, input.word, true);
}

export async function removeRoomWord(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; word: string },
) {
  await moderatedRoom(deps, caller, input.roomId, "change its blocklist");
  return changeBlocklist(deps, caller, input.roomId, input.word, false);
}

export async function listRoomWords(deps: ChatDeps, caller: Caller, roomId: string) {
  await moderatedRoom(deps, caller, roomId, "see its blocklist");
  return listBlocklist(deps, roomId);
}

/** The global list: the API lets only admins call these. */
export const addGlobalWord = (deps: ChatDeps, caller: Caller, word: string) =>
  changeBlocklist(deps, caller, null, word, true);
export const removeGlobalWord = (deps: ChatDeps, caller: Caller, word: string) =>
  changeBlocklist(deps, caller, null, word, false);
export const listGlobalWords = (deps: ChatDeps) => listBlocklist(deps, null);
