import { schema } from "@parley/db";
import { and, asc, desc, eq, ilike, or, sql } from "drizzle-orm";
import { DomainError, roomNotFound } from "../errors.ts";
import { recordAudit } from "./audit-log.ts";
import type { Caller, ChatDeps, RoomRole } from "./chat-deps.ts";
import { announceMembershipChange } from "./membership-cache.ts";
import { appendRoomEvent, publishRoomEvents, type RoomDeletedSignal, roomTopic } from "./room-events.ts";
import { refuseBannedMember } from "./room-sanctions.ts";
import { lastMessageSql, unreadCountSql } from "./room-summaries.ts";
import { adminOverrides } from "./room-visibility.ts";

export interface RoomAccess {
  room: typeof schema.rooms.$inferSelect;
  /** The caller's role in the room, or null when not a member. */
  myRole: RoomRole | null;
}

async function findRoom(deps: ChatDeps, roomId: string) {
  const [room] = await deps.db.select().from(schema.rooms).where(eq(schema.rooms.id, roomId));
  return room ?? null;
}

/**
 * The room if the caller may read it. A private room the caller is not in is NOT_FOUND,
 * exactly like a room that does not exist: its existence is never revealed. A site admin reads
 * private rooms, but not DMs (room-visibility.ts).
 */
export async function readableRoom(deps: ChatDeps, caller: Caller, roomId: string): Promise<RoomAccess> {
  const room = await findRoom(deps, roomId);
  if (!room) throw roomNotFound();
  const myRole = await deps.membership.role(roomId, caller.id);
  if (room.isPrivate && !myRole && !adminOverrides(caller, room)) throw roomNotFound();
  return { room, myRole };
}

/** The caller's role, requiring membership: private rooms stay NOT_FOUND to outsiders. */
export async function requireMember(deps: ChatDeps, caller: Caller, roomId: string): Promise<RoomRole> {
  const role = await deps.membership.role(roomId, caller.id);
  if (role) return role;
  const room = await findRoom(deps, roomId);
  if (!room || room.isPrivate) throw roomNotFound();
  throw new DomainError("forbidden", "Join the room first");
}

/**
 * A DM's members are fixed and its key names exactly them: nobody (an admin neither) renames,
 * deletes, joins, leaves, invites to or kicks from one. Called after the visibility check, so an
 * outsider still gets NOT_FOUND.
 */
function refuseForDm(room: { kind: string }, what: string) {
  if (room.kind === "dm") {
    throw new DomainError("forbidden", `A direct message's members are fixed: you cannot ${what} it`);
  }
}

function canModerate(caller: Caller, access: RoomAccess) {
  return adminOverrides(caller, access.room) || access.myRole === "owner" || access.myRole === "moderator";
}

function canAdminister(caller: Caller, access: RoomAccess) {
  return adminOverrides(caller, access.room) || access.myRole === "owner";
}

function roomView(access: RoomAccess, memberCount: number) {
  const { room, myRole } = access;
  return {
    id: room.id,
    name: room.name,
    description: room.description,
    isPrivate: room.isPrivate,
    kind: room.kind,
    ownerId: room.ownerId,
    lastSeq: room.lastSeq,
    createdAt: room.createdAt,
    memberCount,
    myRole,
  };
}

async function memberCount(deps: ChatDeps, roomId: string) {
  const [row] = await deps.db
    .select({ n: sql<number>`count(*)::int` })
    .from(schema.roomMembers)
    .where(eq(schema.roomMembers.roomId, roomId));
  return row?.n ?? 0;
}

export async function createRoom(
  deps: ChatDeps,
  caller: Caller,
  input: { name: string; description?: string; isPrivate: boolean },
) {
  const { room, event } = await deps.db.transaction(async (tx) => {
    const [room] = await tx
      .insert(schema.rooms)
      .values({
        name: input.name,
        description: input.description || null,
        isPrivate: input.isPrivate,
        ownerId: caller.id,
      })
      .returning();
    if (!room) throw new Error("insert returned no room");
    await tx.insert(schema.roomMembers).values({ roomId: room.id, userId: caller.id, role: "owner" });
    const event = await appendRoomEvent(tx, room.id, caller.id, {
      type: "member.joined",
      userId: caller.id,
      displayName: caller.displayName,
      role: "owner",
    });
    return { room: { ...room, lastSeq: event.seq }, event };
  });
  await announceMembershipChange(deps.bus, { roomId: room.id, userId: caller.id });
  await publishRoomEvents(deps.bus, [event]);
  return roomView({ room, myRole: "owner" }, 1);
}

export async function getRoom(deps: ChatDeps, caller: Caller, roomId: string) {
  const access = await readableRoom(deps, caller, roomId);
  return roomView(access, await memberCount(deps, roomId));
}

function escapeLike(text: string) {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Public rooms and the caller's private ones, newest first. DMs are listed by chat.dms.list, not here. */
export async function listRooms(
  deps: ChatDeps,
  caller: Caller,
  input: { cursor?: number; limit?: number; search?: string } = {},
) {
  const limit = input.limit ?? 50;
  const offset = input.cursor ?? 0;
  const me = schema.roomMembers;
  const visible = and(
    eq(schema.rooms.kind, "room"),
    or(eq(schema.rooms.isPrivate, false), sql`${me.userId} is not null`),
  );
  const where = input.search
    ? and(visible, ilike(schema.rooms.name, `%${escapeLike(input.search)}%`))
    : visible;
  const rows = await deps.db
    .select({
      id: schema.rooms.id,
      name: schema.rooms.name,
      description: schema.rooms.description,
      isPrivate: schema.rooms.isPrivate,
      ownerId: schema.rooms.ownerId,
      lastSeq: schema.rooms.lastSeq,
      createdAt: schema.rooms.createdAt,
      myRole: me.role,
      lastReadSeq: me.lastReadSeq,
      memberCount: sql<number>`(select count(*)::int from room_members m where m.room_id = ${schema.rooms.id})`,
      lastMessage: lastMessageSql(schema.rooms.id, caller.id),
      unreadCount: unreadCountSql(schema.rooms.id, me.lastReadSeq, caller.id),
    })
    .from(schema.rooms)
    .leftJoin(me, and(eq(me.roomId, schema.rooms.id), eq(me.userId, caller.id)))
    .where(where)
    .orderBy(desc(schema.rooms.createdAt), asc(schema.rooms.id))
    .limit(limit + 1)
    .offset(offset);
  const items = rows.slice(0, limit).map(({ lastReadSeq: _, ...room }) => room);
  return { items, nextCursor: rows.length > limit ? offset + limit : null };
}

export async function updateRoom(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; name?: string; description?: string | null; isPrivate?: boolean },
) {
  const access = await readableRoom(deps, caller, input.roomId);
  refuseForDm(access.room, "change");
  if (!canAdminister(caller, access))
    throw new DomainError("forbidden", "Only the owner can change the room");
  const event = await deps.db.transaction(async (tx) => {
    const [room] = await tx
      .update(schema.rooms)
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description || null } : {}),
        ...(input.isPrivate !== undefined ? { isPrivate: input.isPrivate } : {}),
        updatedAt: deps.clock(),
      })
      .where(eq(schema.rooms.id, input.roomId))
      .returning();
    if (!room) throw roomNotFound();
    return appendRoomEvent(tx, room.id, caller.id, {
      type: "room.updated",
      name: room.name,
      description: room.description,
      isPrivate: room.isPrivate,
    });
  });
  await publishRoomEvents(deps.bus, [event]);
  return getRoom(deps, caller, input.roomId);
}

export async function deleteRoom(deps: ChatDeps, caller: Caller, roomId: string) {
  const access = await readableRoom(deps, caller, roomId);
  refuseForDm(access.room, "delete");
  if (!canAdminister(caller, access))
    throw new DomainError("forbidden", "Only the owner can delete the room");
  await deps.db.delete(schema.rooms).where(eq(schema.rooms.id, roomId));
  await announceMembershipChange(deps.bus, { roomId });
  const signal: RoomDeletedSignal = { type: "room.deleted", roomId };
  await deps.bus.publish(roomTopic(roomId), signal);
}

async function addMember(
  deps: ChatDeps,
  actor: Caller,
  roomId: string,
  user: { id: string; displayName: string },
) {
  const event = await deps.db.transaction(async (tx) => {
    await refuseBannedMember(tx, roomId, user.id, deps.clock(), actor.id);
    const inserted = await tx
      .insert(schema.roomMembers)
      .values({ roomId, userId: user.id, role: "member" })
      .onConflictDoNothing()
      .returning({ userId: schema.roomMembers.userId });
    if (inserted.length === 0) return null;
    return appendRoomEvent(tx, roomId, actor.id, {
      type: "member.joined",
      userId: user.id,
      displayName: user.displayName,
      role: "member",
    });
  });
  if (!event) return false;
  await announceMembershipChange(deps.bus, { roomId, userId: user.id });
  await publishRoomEvents(deps.bus, [event]);
  return true;
}

async function removeMember(deps: ChatDeps, actor: Caller, roomId: string, userId: string, kicked: boolean) {
  const event = await deps.db.transaction(async (tx) => {
    const removed = await tx
      .delete(schema.roomMembers)
      .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, userId)))
      .returning({ userId: schema.roomMembers.userId });
    if (removed.length === 0) return null;
    if (kicked) {
      await recordAudit(tx, {
        action: "room.member_kicked",
        actorId: actor.id,
        targetType: "user",
        targetId: userId,
        roomId,
        at: deps.clock(),
      });
    }
    return appendRoomEvent(tx, roomId, actor.id, { type: "member.left", userId, kicked });
  });
  if (!event) return false;
  await announceMembershipChange(deps.bus, { roomId, userId });
  await publishRoomEvents(deps.bus, [event]);
  return true;
}

/** Joins a public room; joining one already joined changes nothing. */
export async function joinRoom(deps: ChatDeps, caller: Caller, roomId: string) {
  const access = await readableRoom(deps, caller, roomId);
  refuseForDm(access.room, "join");
  if (access.room.isPrivate && !access.myRole)
    throw new DomainError("forbidden", "Private rooms are joined by invitation");
  if (!access.myRole) await addMember(deps, caller, roomId, caller);
  return getRoom(deps, caller, roomId);
}

export async function leaveRoom(deps: ChatDeps, caller: Caller, roomId: string) {
  const role = await requireMember(deps, caller, roomId);
  const room = await findRoom(deps, roomId);
  if (room) refuseForDm(room, "leave");
  if (role === "owner") {
    throw new DomainError("invalid", "The owner cannot leave: delete the room or hand it over first");
  }
  await removeMember(deps, caller, roomId, caller.id, false);
}

export async function inviteToRoom(deps: ChatDeps, caller: Caller, roomId: string, userId: string) {
  const access = await readableRoom(deps, caller, roomId);
  refuseForDm(access.room, "invite anyone to");
  if (!canModerate(caller, access))
    throw new DomainError("forbidden", "Only the owner or a moderator can invite");
  const [user] = await deps.db
    .select({ id: schema.users.id, displayName: schema.users.displayName })
    .from(schema.users)
    .where(eq(schema.users.id, userId));
  if (!user) throw new DomainError("not-found", "No such user");
  const added = await addMember(deps, caller, roomId, user);
  if (!added) throw new DomainError("conflict", "Already a member");
}

export async function kickFromRoom(deps: ChatDeps, caller: Caller, roomId: string, userId: string) {
  const access = await readableRoom(deps, caller, roomId);
  refuseForDm(access.room, "kick anyone from");
  if (!canModerate(caller, access))
    throw new DomainError("forbidden", "Only the owner or a moderator can kick");
  if (userId === caller.id) throw new DomainError("invalid", "Use leave to leave a room");
  const targetRole = await deps.membership.role(roomId, userId);
  if (!targetRole) throw new DomainError("not-found", "Not a member of this room");
  if (targetRole === "owner") throw new DomainError("forbidden", "The owner cannot be kicked");
  if (targetRole === "moderator" && access.myRole === "moderator" && caller.role !== "admin") {
    throw new DomainError("forbidden", "Moderators cannot kick moderators");
  }
  await removeMember(deps, caller, roomId, userId, true);
}

export async function listMembers(deps: ChatDeps, caller: Caller, roomId: string, cursor = 0) {
  await requireMember(deps, caller, roomId);
  const limit = 100;
  const rows = await deps.db
    .select({
      userId: schema.roomMembers.userId,
      displayName: schema.users.displayName,
      // For a client's @-autocomplete.
      handle: schema.users.handle,
      role: schema.roomMembers.role,
      joinedAt: schema.roomMembers.joinedAt,
    })
    .from(schema.roomMembers)
    .innerJoin(schema.users, eq(schema.users.id, schema.roomMembers.userId))
    .where(eq(schema.roomMembers.roomId, roomId))
    .orderBy(asc(schema.roomMembers.joinedAt), asc(schema.roomMembers.userId))
    .limit(limit + 1)
    .offset(cursor);
  const online = new Set((await deps.presence.snapshot(roomId)).online.map((u) => u.userId));
  return {
    items: rows.slice(0, limit).map((row) => ({ ...row, online: online.has(row.userId) })),
    nextCursor: rows.length > limit ? cursor + limit : null,
  };
}

/** Moves the caller's read marker forward (never back), at most to the room's last seq. */
export async function markRead(deps: ChatDeps, caller: Caller, roomId: string, seq: number) {
  await requireMember(deps, caller, roomId);
  const [row] = await deps.db
    .update(schema.roomMembers)
    .set({
      lastReadSeq: sql`greatest(${schema.roomMembers.lastReadSeq}, least(${seq}, (select last_seq from rooms where id = ${roomId})))`,
    })
    .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, caller.id)))
    .returning({ lastReadSeq: schema.roomMembers.lastReadSeq });
  return { lastReadSeq: row?.lastReadSeq ?? 0 };
}
