import {
  historyPage,
  historyVersion,
  insertMessage,
  messageViewOf,
  schema,
  sentBefore,
  type Transaction,
} from "@parley/db";
import { and, asc, desc, eq, isNull, sql } from "drizzle-orm";
import { DomainError, messageNotFound, roomNotFound } from "../errors.ts";
import { markPlainJson } from "../plain-json.ts";
import { deleteAttachmentsOf, sendWithAttachments } from "./attachments-service.ts";
import { recordAudit } from "./audit-log.ts";
import { notBlockedBy } from "./blocks-service.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { blockedDmSendRefusal } from "./dms-service.ts";
import { mentionsIn, parseMentions, sendWithMentions } from "./mentions-service.ts";
import { appendRoomEvent, type MessageView, publishRoomEvents, type RoomEvent } from "./room-events.ts";
import { refusePost } from "./room-sanctions.ts";
import { adminOverrides, readableRoomSql } from "./room-visibility.ts";
import { readableRoom, requireMember } from "./rooms-service.ts";
import { insertReply, replyRemoved } from "./threads-service.ts";

const UNIQUE_VIOLATION = "23505";

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

function sameSend(message: MessageView, roomId: string): MessageView {
  // A clientMessageId names one message: reusing it for another room is a client bug.
  if (message.roomId !== roomId) {
    throw new DomainError(
      "conflict",
      "This clientMessageId was already used in another room",
      "clientMessageId",
    );
  }
  return markPlainJson(message);
}

/**
 * Why a write that requires membership found none: the room is gone or private (NOT_FOUND, as
 * for any outsider), or public and the caller must join first. Read afresh, not from the
 * membership cache, which may not have heard of the removal yet.
 */
async function sendRefusal(deps: ChatDeps, roomId: string): Promise<DomainError> {
  const [room] = await deps.db
    .select({ isPrivate: schema.rooms.isPrivate })
    .from(schema.rooms)
    .where(eq(schema.rooms.id, roomId));
  if (!room || room.isPrivate) return roomNotFound();
  return new DomainError("forbidden", "Join the room first");
}

/**
 * A refused send may be the retry of one that committed before a mute, a blocklisted word or a
 * block came: that does not undo it, and an idempotent send promises the retry the first message.
 * Looked up only on the refusal path, so the common send reads nothing more.
 */
async function retriedSend(
  deps: ChatDeps,
  sender: { userId: string; clientMessageId: string; authorName: string },
  roomId: string,
): Promise<MessageView | null> {
  const earlier = await sentBefore(deps.db, sender);
  return earlier ? sameSend(earlier, roomId) : null;
}

/**
 * Sends a message, or with `parentId` a reply in that message's thread (threads-service).
 * Idempotent: a retry with the same clientMessageId returns the first message, even when both
 * attempts race (the unique index decides, the loser reads the winner).
 */
export async function sendMessage(
  deps: ChatDeps,
  caller: Caller,
  input: {
    roomId: string;
    content: string;
    clientMessageId: string;
    parentId?: string;
    attachmentIds?: string[];
  },
): Promise<MessageView> {
  await requireMember(deps, caller, input.roomId);
  const attachmentIds = input.attachmentIds?.length ? input.attachmentIds : undefined;
  const sender = {
    userId: caller.id,
    clientMessageId: input.clientMessageId,
    authorName: caller.displayName,
  };
  try {
    await refusePost(deps, caller, input.roomId, input.content);
  } catch (refusal) {
    const earlier = await retriedSend(deps, sender, input.roomId);
    if (earlier) return earlier;
    throw refusal;
  }
  let row: { created: boolean; message: MessageView; events?: RoomEvent[] } | undefined;
  // No `@`, no mention, no file: the common send stays one statement, with no query added.
  const mentioned = input.content.includes("@") ? parseMentions(input.content) : null;
  try {
    const message = { ...sender, roomId: input.roomId, content: input.content };
    if (input.parentId) {
      const mentioning = mentioned
        ? (tx: Transaction) => mentionsIn(deps, tx, caller, input.roomId, mentioned)
        : undefined;
      row = await insertReply(deps, { ...message, parentId: input.parentId }, mentioning, attachmentIds);
    } else if (attachmentIds) {
      row = await sendWithAttachments(deps, caller, input, attachmentIds, mentioned);
    } else {
      row = mentioned
        ? await sendWithMentions(deps, caller, input, mentioned)
        : await insertMessage(deps.db, message);
    }
  } catch (error) {
    if (error instanceof DomainError && error.field === "attachmentIds") {
      // A concurrent retry of this send may have committed and linked the files first, after
      // this attempt looked for it: the retry still gets the first message.
      const earlier = await retriedSend(deps, sender, input.roomId);
      if (earlier) return earlier;
      throw error;
    }
    if (!isUniqueViolation(error)) throw error;
    // The race's loser: its statement rolled back whole; the winner is committed.
    const winner = await sentBefore(deps.db, sender);
    if (!winner) throw error;
    return sameSend(winner, input.roomId);
  }
  if (!row) {
    const earlier = await retriedSend(deps, sender, input.roomId);
    if (earlier) return earlier;
    throw (await blockedDmSendRefusal(deps, caller, input.roomId)) ?? (await sendRefusal(deps, input.roomId));
  }
  if (!row.created) return sameSend(row.message, input.roomId);
  const message = markPlainJson(row.message);
  const event: RoomEvent = { type: "message.created", roomId: message.roomId, seq: message.seq, message };
  await publishRoomEvents(deps.bus, row.events ?? [event]);
  return message;
}

type HistoryItem = MessageView & { reactions: { emoji: string; count: number; mine: boolean }[] };

/**
 * A page of messages, newest first. `before` pages back through history; `after` pages
 * forward (the oldest `limit` after it). Deleted messages stay as tombstones.
 * The same rules as readableRoom: a private room the caller is not in is NOT_FOUND.
 */
export async function listMessages(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; before?: number; after?: number; limit?: number },
) {
  const limit = input.limit ?? 50;
  // The statements apply the admin rule of room-visibility.ts: not in a DM.
  const admin = caller.role === "admin";
  const cache = input.before === undefined && input.after === undefined ? deps.historyPages : undefined;
  if (!cache) return readMessagePage(deps, caller, input, limit, admin);
  // Read before the page: a change committed between the two makes the stored page newer than
  // its version, never older, and the next request's version differs from it.
  const version = await historyVersion(deps.db, { roomId: input.roomId, callerId: caller.id, admin });
  if (!version) throw roomNotFound();
  const key = `${input.roomId}:${caller.id}:${admin}:${limit}`;
  const stamp = `${version.lastSeq}:${version.blocked}`;
  const cached = cache.get<MessagePage>(key, stamp);
  if (cached) return cached;
  const page = await readMessagePage(deps, caller, input, limit, admin);
  cache.set(key, stamp, page);
  return page;
}

type MessagePage = { items: HistoryItem[]; hasMore: boolean };

async function readMessagePage(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; before?: number; after?: number },
  limit: number,
  admin: boolean,
): Promise<MessagePage> {
  const forward = input.after !== undefined;
  const rows: HistoryItem[] | undefined = await historyPage(deps.db, {
    ...input,
    limit: limit + 1,
    callerId: caller.id,
    admin,
  });
  if (!rows) throw roomNotFound();
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  if (forward) items.reverse();
  // hasMore is in the paging direction: older with `before` (or none), newer with `after`.
  // Plain JSON from the database (no Date, no undefined): sent without superjson's walk.
  return markPlainJson({ items, hasMore: more });
}

async function messageInReadableRoom(deps: ChatDeps, caller: Caller, messageId: string) {
  const [row] = await deps.db.select().from(schema.messages).where(eq(schema.messages.id, messageId));
  if (!row) throw messageNotFound();
  try {
    const access = await readableRoom(deps, caller, row.roomId);
    return { row, access };
  } catch (error) {
    // A message in a room the caller cannot see does not exist for them either.
    if (error instanceof DomainError && error.kind === "not-found") throw messageNotFound();
    throw error;
  }
}

/**
 * The caller holds a membership row in the room (with a moderator's role when `moderating`),
 * locked FOR KEY SHARE until the write commits: a kick's or a leave's DELETE waits for the
 * write, or the write waits for it and then finds no row. Membership is decided where the
 * write commits, not at an earlier check.
 */
function memberNow(roomId: string, userId: string, moderating: boolean) {
  return sql`exists (select 1 from room_members rm
    where rm.room_id = ${roomId} and rm.user_id = ${userId}
    ${moderating ? sql`and rm.role in ('owner', 'moderator')` : sql``}
    for key share)`;
}

/** Why a write to a message that requires membership found none (the message is not deleted). */
async function membershipRefusal(deps: ChatDeps, roomId: string): Promise<DomainError> {
  const refusal = await sendRefusal(deps, roomId);
  // A message in a room the caller cannot see does not exist for them either.
  return refusal.kind === "not-found" ? messageNotFound() : refusal;
}

async function isDeleted(deps: ChatDeps, messageId: string): Promise<boolean> {
  const [message] = await deps.db
    .select({ deletedAt: schema.messages.deletedAt })
    .from(schema.messages)
    .where(eq(schema.messages.id, messageId));
  return message?.deletedAt != null;
}

export async function editMessage(
  deps: ChatDeps,
  caller: Caller,
  input: { messageId: string; content: string },
) {
  const { row } = await messageInReadableRoom(deps, caller, input.messageId);
  if (row.userId !== caller.id) throw new DomainError("forbidden", "Only the author can edit a message");
  if (row.deletedAt) throw messageNotFound();
  await refusePost(deps, caller, row.roomId, input.content);
  const event = await deps.db.transaction(async (tx) => {
    const editedAt = deps.clock();
    const updated = await tx
      .update(schema.messages)
      .set({ content: input.content, editedAt })
      .where(
        and(
          eq(schema.messages.id, row.id),
          isNull(schema.messages.deletedAt),
          memberNow(row.roomId, caller.id, false),
        ),
      )
      .returning({ id: schema.messages.id });
    if (updated.length === 0) return null;
    return appendRoomEvent(tx, row.roomId, caller.id, {
      type: "message.updated",
      messageId: row.id,
      userId: row.userId,
      content: input.content,
      editedAt: editedAt.toISOString(),
    });
  });
  if (!event) {
    if (await isDeleted(deps, row.id)) throw messageNotFound();
    throw await membershipRefusal(deps, row.roomId);
  }
  await publishRoomEvents(deps.bus, [event]);
  return {
    id: row.id,
    content: input.content,
    editedAt: event.type === "message.updated" ? event.editedAt : null,
  };
}

/** The author (still a member) or a moderator of the room deletes; an admin deletes anything. */
export async function deleteMessage(deps: ChatDeps, caller: Caller, messageId: string) {
  const { row, access } = await messageInReadableRoom(deps, caller, messageId);
  const admin = adminOverrides(caller, access.room);
  const author = row.userId === caller.id;
  const moderator = admin || access.myRole === "owner" || access.myRole === "moderator";
  if (!author && !moderator) {
    throw new DomainError("forbidden", "Only the author or a moderator can delete a message");
  }
  if (row.deletedAt) return { id: row.id };
  const result = await deps.db.transaction(async (tx) => {
    const deletedAt = deps.clock();
    const updated = await tx
      .update(schema.messages)
      .set({ content: "", deletedAt })
      .where(
        and(
          eq(schema.messages.id, row.id),
          isNull(schema.messages.deletedAt),
          admin ? undefined : memberNow(row.roomId, caller.id, !author),
        ),
      )
      .returning({ id: schema.messages.id });
    if (updated.length === 0) return { event: null };
    if (!author) {
      await recordAudit(tx, {
        action: "room.message_deleted",
        actorId: caller.id,
        targetType: "message",
        targetId: row.id,
        roomId: row.roomId,
        details: { authorId: row.userId },
        at: deletedAt,
      });
    }
    await deleteAttachmentsOf(tx, row.id);
    // A reply's root is locked (and its counters lowered) before the room row, as a reply's send does.
    const thread = row.parentId ? await replyRemoved(tx, row.parentId) : null;
    const event = await appendRoomEvent(tx, row.roomId, caller.id, {
      type: "message.deleted",
      messageId: row.id,
      userId: row.userId,
      deletedAt: deletedAt.toISOString(),
    });
    const events = thread ? [event, await appendRoomEvent(tx, row.roomId, caller.id, thread)] : [event];
    return { event, events };
  });
  if (result.event) {
    await publishRoomEvents(deps.bus, result.events);
    return { id: row.id };
  }
  // Deleted meanwhile by someone else: deleting is idempotent.
  if (await isDeleted(deps, row.id)) return { id: row.id };
  throw await membershipRefusal(deps, row.roomId);
}

async function changeReaction(
  deps: ChatDeps,
  caller: Caller,
  input: { messageId: string; emoji: string },
  add: boolean,
) {
  const { row } = await messageInReadableRoom(deps, caller, input.messageId);
  await requireMember(deps, caller, row.roomId);
  if (row.deletedAt) throw messageNotFound();
  if (add) await refusePost(deps, caller, row.roomId);
  const outcome = await deps.db.transaction(async (tx) => {
    // Membership holds where the reaction is written: a kick's DELETE waits for this lock, or
    // this finds no row once the removal committed (see memberNow).
    const [member] = await tx
      .select({ userId: schema.roomMembers.userId })
      .from(schema.roomMembers)
      .where(and(eq(schema.roomMembers.roomId, row.roomId), eq(schema.roomMembers.userId, caller.id)))
      .for("key share");
    if (!member) return { refused: true as const };
    if (add) {
      // FOR SHARE conflicts with the delete's UPDATE (the foreign key check's KEY SHARE does
      // not): a reaction commits before the delete, or sees the tombstone and is refused.
      const [live] = await tx
        .select({ id: schema.messages.id })
        .from(schema.messages)
        .where(and(eq(schema.messages.id, row.id), isNull(schema.messages.deletedAt)))
        .for("share");
      if (!live) throw messageNotFound();
    }
    const changed = add
      ? await tx
          .insert(schema.reactions)
          .values({ messageId: row.id, userId: caller.id, emoji: input.emoji })
          .onConflictDoNothing()
          .returning({ emoji: schema.reactions.emoji })
      : await tx
          .delete(schema.reactions)
          .where(
            and(
              eq(schema.reactions.messageId, row.id),
              eq(schema.reactions.userId, caller.id),
              eq(schema.reactions.emoji, input.emoji),
            ),
          )
          .returning({ emoji: schema.reactions.emoji });
    // Reacting twice, or removing what is not there, changes nothing and tells no one.
    if (changed.length === 0) return { refused: false as const, event: null };
    const event = await appendRoomEvent(tx, row.roomId, caller.id, {
      type: add ? "reaction.added" : "reaction.removed",
      messageId: row.id,
      userId: caller.id,
      emoji: input.emoji,
    });
    return { refused: false as const, event };
  });
  if (outcome.refused) throw await membershipRefusal(deps, row.roomId);
  if (outcome.event) await publishRoomEvents(deps.bus, [outcome.event]);
  return { ok: true as const };
}

export const react = (deps: ChatDeps, caller: Caller, input: { messageId: string; emoji: string }) =>
  changeReaction(deps, caller, input, true);

export const unreact = (deps: ChatDeps, caller: Caller, input: { messageId: string; emoji: string }) =>
  changeReaction(deps, caller, input, false);

const SEARCH_PAGE = 20;

/**
 * Full-text search over the rooms the caller may read. websearch_to_tsquery accepts any text
 * (to_tsquery raises syntax errors on ordinary input); the expression matches the GIN index.
 */
export async function searchMessages(
  deps: ChatDeps,
  caller: Caller,
  input: { query: string; roomId?: string; cursor?: number },
) {
  if (input.roomId) await readableRoom(deps, caller, input.roomId);
  const offset = input.cursor ?? 0;
  const m = schema.messages;
  const query = sql`websearch_to_tsquery('english', ${input.query})`;
  const document = sql`to_tsvector('english', ${m.content})`;
  const readable = readableRoomSql(caller, schema.rooms);
  const rank = sql<number>`ts_rank(${document}, ${query})`;
  const rows = await deps.db
    .select({ message: m, authorName: schema.users.displayName, roomName: schema.rooms.name, rank })
    .from(m)
    .innerJoin(schema.rooms, eq(schema.rooms.id, m.roomId))
    .innerJoin(schema.users, eq(schema.users.id, m.userId))
    .where(
      and(
        sql`${document} @@ ${query}`,
        isNull(m.deletedAt),
        readable,
        notBlockedBy(caller.id, m.userId),
        input.roomId ? eq(m.roomId, input.roomId) : undefined,
      ),
    )
    .orderBy(desc(rank), desc(m.createdAt), asc(m.id))
    .limit(SEARCH_PAGE + 1)
    .offset(offset);
  return {
    items: rows.slice(0, SEARCH_PAGE).map((r): MessageView & { roomName: string } => ({
      ...messageViewOf(r.message, r.authorName),
      roomName: r.roomName,
    })),
    nextCursor: rows.length > SEARCH_PAGE ? offset + SEARCH_PAGE : null,
  };
}
