import { type Queryable, schema } from "@parley/db";
import { and, asc, desc, eq, inArray, type SQLWrapper, sql } from "drizzle-orm";
import { DomainError } from "../errors.ts";
import { DM_MAX_MEMBERS } from "../schemas/dms.ts";
import { blockedBetween } from "./blocks-service.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { announceMembershipChange } from "./membership-cache.ts";
import { appendRoomEvent, publishRoomEvents, type RoomEvent } from "./room-events.ts";
import { lastMessageSql, unreadCountSql } from "./room-summaries.ts";

/** User ids are [A-Za-z0-9-]: a comma cannot occur in one, so the key names one set of people. */
const KEY_SEPARATOR = ",";

export interface DmMember {
  id: string;
  displayName: string;
  handle: string;
}

/** The SQL for a DM's members, by display name: one definition for open and list. */
function membersSql(roomId: SQLWrapper) {
  return sql<
    DmMember[]
  >`(select coalesce(json_agg(json_build_object('id', u.id, 'displayName', u.display_name,
      'handle', u.handle) order by u.display_name, u.id), '[]'::json)
    from room_members dm join users u on u.id = dm.user_id where dm.room_id = ${roomId})`;
}

/**
 * Opens the conversation between the caller and `userIds` (one-to-one, or a group of at most
 * ten people with the caller), or finds the one these same people already have: its key is
 * their sorted ids, unique, so two opens racing insert one room (the loser's ON CONFLICT waits
 * for the winner's commit, then reads its room). Every member gets role `member`: nobody
 * administers a DM. `owner_id` (not null in the schema) records who opened it and grants
 * nothing: every permission is read from room_members.role.
 */
export async function openDm(deps: ChatDeps, caller: Caller, input: { userIds: string[] }) {
  const memberIds = [...new Set([caller.id, ...input.userIds])].sort();
  if (memberIds.length < 2) {
    throw new DomainError("invalid", "Name at least one person other than yourself", "userIds");
  }
  if (memberIds.length > DM_MAX_MEMBERS) {
    throw new DomainError(
      "invalid",
      `A direct message holds at most ${DM_MAX_MEMBERS} people, you included`,
      "userIds",
    );
  }
  const users = await deps.db
    .select({ id: schema.users.id, displayName: schema.users.displayName })
    .from(schema.users)
    .where(inArray(schema.users.id, memberIds))
    .orderBy(asc(schema.users.id));
  // One answer for any unknown id, naming none: which of several ids exist is not told here.
  if (users.length !== memberIds.length) throw new DomainError("not-found", "No such user");
  const others = memberIds.filter((id) => id !== caller.id);
  // Only blocks between the opener and the others refuse: blocks among the others are theirs, not
  // the opener's to learn of; in the group each blocker still never sees the blocked one's messages.
  if (await blockedBetween(deps.db, caller.id, others)) {
    throw new DomainError(
      "forbidden",
      others.length === 1
        ? "You cannot message this person: one of you has blocked the other"
        : "You cannot start a conversation with someone you blocked or who blocked you",
    );
  }
  const dmKey = memberIds.join(KEY_SEPARATOR);
  const created = await deps.db.transaction(async (tx) => {
    const [room] = await tx
      .insert(schema.rooms)
      .values({ name: "Direct message", isPrivate: true, kind: "dm", dmKey, ownerId: caller.id })
      .onConflictDoNothing({ target: schema.rooms.dmKey })
      .returning({ id: schema.rooms.id });
    if (!room) return null;
    await tx
      .insert(schema.roomMembers)
      .values(memberIds.map((userId) => ({ roomId: room.id, userId, role: "member" as const })));
    const events: RoomEvent[] = [];
    for (const user of users) {
      events.push(
        await appendRoomEvent(tx, room.id, caller.id, {
          type: "member.joined",
          userId: user.id,
          displayName: user.displayName,
          role: "member",
        }),
      );
    }
    return { roomId: room.id, events };
  });
  if (created) {
    await announceMembershipChange(deps.bus, { roomId: created.roomId });
    await publishRoomEvents(deps.bus, created.events);
  }
  const [dm] = await deps.db
    .select({
      id: schema.rooms.id,
      kind: schema.rooms.kind,
      lastSeq: schema.rooms.lastSeq,
      createdAt: schema.rooms.createdAt,
      // Qualified by hand: drizzle leaves a one-table select's columns bare, and a bare "id" in
      // the subquery would name the users' id.
      members: membersSql(sql.raw(`"rooms"."id"`)),
    })
    .from(schema.rooms)
    .where(eq(schema.rooms.dmKey, dmKey));
  if (!dm) throw new Error("a DM's room vanished after it was opened");
  return { ...dm, created: created !== null };
}

/** The caller's DMs, newest activity (last message, or opening) first, with members, last message and unread count. */
export async function listDms(
  deps: ChatDeps,
  caller: Caller,
  input: { cursor?: number; limit?: number } = {},
) {
  const limit = input.limit ?? 50;
  const offset = input.cursor ?? 0;
  const r = schema.rooms;
  const me = schema.roomMembers;
  const lastActivityAt = sql<string>`coalesce((select x.created_at from messages x
      where x.room_id = ${r.id} order by x.seq desc limit 1), ${r.createdAt})`;
  const rows = await deps.db
    .select({
      id: r.id,
      kind: r.kind,
      lastSeq: r.lastSeq,
      createdAt: r.createdAt,
      members: membersSql(r.id),
      lastMessage: lastMessageSql(r.id, caller.id),
      unreadCount: unreadCountSql(r.id, me.lastReadSeq, caller.id),
    })
    .from(r)
    .innerJoin(me, and(eq(me.roomId, r.id), eq(me.userId, caller.id)))
    .where(eq(r.kind, "dm"))
    .orderBy(desc(lastActivityAt), asc(r.id))
    .limit(limit + 1)
    .offset(offset);
  return { items: rows.slice(0, limit), nextCursor: rows.length > limit ? offset + limit : null };
}

/**
 * Why a member's send to a one-to-one DM wrote nothing, when a block between the two is why
 * (the send statement refuses it: see @parley/db's insertMessage); null for any other reason.
 * Read afresh, after the refused send.
 */
export async function blockedDmSendRefusal(
  deps: ChatDeps,
  caller: Caller,
  roomId: string,
): Promise<DomainError | null> {
  const [room] = await deps.db
    .select({ dmKey: schema.rooms.dmKey })
    .from(schema.rooms)
    .innerJoin(
      schema.roomMembers,
      and(eq(schema.roomMembers.roomId, schema.rooms.id), eq(schema.roomMembers.userId, caller.id)),
    )
    .where(eq(schema.rooms.id, roomId));
  const ids = room?.dmKey?.split(KEY_SEPARATOR) ?? [];
  const other = ids.find((id) => id !== caller.id);
  if (ids.length !== 2 || other === undefined) return null;
  const b = schema.userBlocks;
  const blocks = await deps.db
    .select({ blockerId: b.blockerId })
    .from(b)
    .where(
      sql`(${b.blockerId} = ${caller.id} and ${b.blockedId} = ${other})
        or (${b.blockerId} = ${other} and ${b.blockedId} = ${caller.id})`,
    );
  if (blocks.length === 0) return null;
  return new DomainError(
    "forbidden",
    blocks.some((row) => row.blockerId === caller.id)
      ? "You blocked this person: unblock them to send here"
      : "You cannot send here: this person has blocked you",
  );
}

/**
 * Whether the room is a one-to-one DM whose two members are separated by a block (either way):
 * the send statement's own condition (@parley/db's insertMessage), for writes that do not go
 * through it (a thread reply). False for any room without a dm_key, at the cost of one lookup.
 */
export async function blockedInDm(tx: Queryable, roomId: string): Promise<boolean> {
  const r = schema.rooms;
  const b = schema.userBlocks;
  const members = sql`string_to_array(${r.dmKey}, ${KEY_SEPARATOR})`;
  const rows = await tx
    .select({ roomId: r.id })
    .from(r)
    .innerJoin(b, sql`${b.blockerId} = any(${members}) and ${b.blockedId} = any(${members})`)
    .where(and(eq(r.id, roomId), sql`cardinality(${members}) = 2`))
    .limit(1);
  return rows.length > 0;
}
