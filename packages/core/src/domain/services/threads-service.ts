import { type Queryable, schema, sentBefore, type Transaction, threadPage } from "@parley/db";
import { and, asc, desc, eq, isNull, sql } from "drizzle-orm";
import { DomainError } from "../errors.ts";
import { markPlainJson } from "../plain-json.ts";
import { claimAttachments, linkAttachments } from "./attachments-service.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { blockedInDm } from "./dms-service.ts";
import type { SendMentions } from "./mentions-service.ts";
import { appendRoomEvent, type MessageView, type RoomEvent, type RoomEventData } from "./room-events.ts";
import { readableRoomSql } from "./room-visibility.ts";
import { readableRoom } from "./rooms-service.ts";

// Threads are one level deep: a reply points at its root, the root carries the reply count and
// the time of the last live reply, and every change to those counters is a `thread.updated`
// event on the room's own stream, written in the same transaction as the change.

const threadNotFound = () => new DomainError("not-found", "No such thread");
// NOT_FOUND, not BAD_REQUEST: a parent in another room (or deleted) is, to this send, a message
// the sender cannot reply to, and a private room's message must not be told apart from none.
const parentNotFound = () => new DomainError("not-found", "No such message to reply to", "parentId");

const m = schema.messages;
const follows = schema.threadFollows;

/** The ISO text of a timestamptz as the message view shows it (toISOString's form). */
const isoText = (column: unknown) =>
  sql<string | null>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

// Written with core's MessageView, not @parley/db's type: @parley/client ships its declarations
// without @parley/db.
type ThreadItem = MessageView & { reactions: { emoji: string; count: number; mine: boolean }[] };

export type ReplySent =
  | { created: true; message: MessageView; events: RoomEvent[] }
  | { created: false; message: MessageView };

/**
 * Sends a reply in one transaction: the message, its `message.created`, the root's counters and
 * their `thread.updated`, and the follows of the replier and of the root's author. The same
 * outcomes as a plain send (insertMessage): the message already sent with this clientMessageId
 * (so a retry counts once), or none when the sender is not a member. Locks, in the order every
 * writer takes them: the sender's membership (FOR KEY SHARE, as a send), the root (FOR UPDATE:
 * replies to one thread count one after another, and a delete of the root waits), the room row
 * (the seq). A concurrent retry with the same clientMessageId fails on the unique index and
 * rolls back whole, counters included.
 */
export async function insertReply(
  deps: ChatDeps,
  input: {
    roomId: string;
    userId: string;
    content: string;
    clientMessageId: string;
    authorName: string;
    parentId: string;
  },
  /** Resolves the reply's mentions in its transaction (only when the text has an `@`). */
  mentioning?: (tx: Transaction) => Promise<SendMentions>,
  /** The files the reply carries (checked and locked in its transaction), or none. */
  attachmentIds?: readonly string[],
): Promise<ReplySent | undefined> {
  return deps.db.transaction(async (tx): Promise<ReplySent | undefined> => {
    const existing = await sentBefore(tx, input);
    if (existing) return { created: false, message: markPlainJson(existing) };
    const [member] = await tx
      .select({ userId: schema.roomMembers.userId })
      .from(schema.roomMembers)
      .where(and(eq(schema.roomMembers.roomId, input.roomId), eq(schema.roomMembers.userId, input.userId)))
      .for("key share");
    // No member row, or a one-to-one DM across a block: refused as a plain send is (no row).
    if (!member || (await blockedInDm(tx, input.roomId))) return undefined;
    const [parent] = await tx
      .select({ id: m.id, roomId: m.roomId, parentId: m.parentId, deletedAt: m.deletedAt })
      .from(m)
      .where(eq(m.id, input.parentId));
    if (!parent || parent.roomId !== input.roomId || parent.deletedAt) throw parentNotFound();
    const rootId = parent.parentId ?? parent.id;
    const [root] = await tx
      .select({ id: m.id, userId: m.userId })
      .from(m)
      .where(and(eq(m.id, rootId), isNull(m.deletedAt)))
      .for("update");
    if (!root) throw parentNotFound();
    const [room] = await tx
      .update(schema.rooms)
      .set({ lastSeq: sql`${schema.rooms.lastSeq} + 1` })
      .where(eq(schema.rooms.id, input.roomId))
      .returning({ seq: schema.rooms.lastSeq });
    if (!room) throw new Error(`room ${input.roomId} vanished inside its transaction`);
    const attachments = attachmentIds
      ? await claimAttachments(tx, input.userId, input.roomId, attachmentIds)
      : [];
    const mentions = mentioning ? await mentioning(tx) : null;
    await tx.insert(m).values({
      roomId: input.roomId,
      seq: room.seq,
      userId: input.userId,
      content: input.content,
      clientMessageId: input.clientMessageId,
      parentId: rootId,
      mentions: mentions?.ids ?? [],
      mentionsRoom: mentions?.room ?? false,
      attachments,
    });
    // Read back through the one SQL definition of the view: the event is byte-identical to what
    // the history and a retried send show.
    const message = await sentBefore(tx, input);
    if (!message) throw new Error("the reply just inserted is not there");
    if (attachmentIds) await linkAttachments(tx, message.id, attachmentIds);
    await mentions?.deliver(tx, message);
    const created: RoomEvent = { type: "message.created", roomId: input.roomId, seq: room.seq, message };
    await tx.insert(schema.roomEvents).values({
      roomId: input.roomId,
      seq: room.seq,
      type: created.type,
      messageId: message.id,
      actorId: input.userId,
      payload: created,
    });
    const [counters] = await tx
      .update(m)
      .set({
        replyCount: sql`${m.replyCount} + 1`,
        lastReplyAt: sql`(select r.created_at from messages r where r.id = ${message.id})`,
      })
      .where(eq(m.id, rootId))
      .returning({ replyCount: m.replyCount, lastReplyAt: isoText(m.lastReplyAt) });
    if (!counters) throw new Error("the locked thread root vanished");
    const updated = await appendRoomEvent(tx, input.roomId, input.userId, {
      type: "thread.updated",
      threadId: rootId,
      replyCount: counters.replyCount,
      lastReplyAt: counters.lastReplyAt,
    });
    // Replying is reading: the replier's marker moves to their reply. The root's author starts
    // with every reply unread.
    await tx
      .insert(follows)
      .values({ userId: input.userId, threadId: rootId, roomId: input.roomId, lastReadSeq: room.seq })
      .onConflictDoUpdate({
        target: [follows.userId, follows.threadId],
        set: { lastReadSeq: sql`greatest(${follows.lastReadSeq}, excluded.last_read_seq)` },
      });
    if (root.userId !== input.userId) {
      await tx
        .insert(follows)
        .values({ userId: root.userId, threadId: rootId, roomId: input.roomId })
        .onConflictDoNothing();
    }
    return { created: true, message: markPlainJson(message), events: [created, updated] };
  });
}

/**
 * A reply was deleted (inside the delete's transaction, after its UPDATE): the root's count
 * drops by one and its last reply time becomes that of the last live reply by seq (null when
 * none is left), so the counters always describe the live replies. Locks the root before the caller takes
 * the room row, the order a reply's send takes them. Returns the `thread.updated` to append.
 */
export async function replyRemoved(tx: Queryable, rootId: string): Promise<RoomEventData> {
  const [counters] = await tx
    .update(m)
    .set({
      replyCount: sql`greatest(${m.replyCount} - 1, 0)`,
      lastReplyAt: sql`(select r.created_at from messages r
        where r.parent_id = ${rootId} and r.deleted_at is null order by r.seq desc limit 1)`,
    })
    .where(eq(m.id, rootId))
    .returning({ replyCount: m.replyCount, lastReplyAt: isoText(m.lastReplyAt) });
  if (!counters) throw new Error(`thread root ${rootId} vanished while its reply was deleted`);
  return { type: "thread.updated", threadId: rootId, ...counters };
}

/**
 * The thread root if the caller may read its room. A reply's id, a missing message and a message
 * in a private room the caller is not in are all NOT_FOUND.
 */
async function readableThread(deps: ChatDeps, caller: Caller, threadId: string) {
  const [root] = await deps.db
    .select({ id: m.id, roomId: m.roomId, parentId: m.parentId })
    .from(m)
    .where(eq(m.id, threadId));
  if (!root || root.parentId !== null) throw threadNotFound();
  try {
    await readableRoom(deps, caller, root.roomId);
  } catch (error) {
    if (error instanceof DomainError && error.kind === "not-found") throw threadNotFound();
    throw error;
  }
  return { id: root.id, roomId: root.roomId };
}

/**
 * A page of a thread's replies, newest first; `before` pages back, `after` forward (the oldest
 * `limit` after it), as the room's history does. The root comes alongside, with its counters.
 */
export async function listThread(
  deps: ChatDeps,
  caller: Caller,
  input: { threadId: string; before?: number; after?: number; limit?: number },
) {
  const thread = await readableThread(deps, caller, input.threadId);
  const limit = input.limit ?? 50;
  const page = await threadPage(deps.db, {
    threadId: thread.id,
    before: input.before,
    after: input.after,
    limit: limit + 1,
    callerId: caller.id,
  });
  const root: ThreadItem | null = page.root;
  if (!root) throw threadNotFound();
  const more = page.items.length > limit;
  const items: ThreadItem[] = more ? page.items.slice(0, limit) : page.items;
  if (input.after !== undefined) items.reverse();
  return markPlainJson({ root, items, hasMore: more });
}

/** Follows a thread explicitly; every reply not by the caller counts as unread until markRead. */
export async function followThread(deps: ChatDeps, caller: Caller, threadId: string) {
  const thread = await readableThread(deps, caller, threadId);
  await deps.db
    .insert(follows)
    .values({ userId: caller.id, threadId: thread.id, roomId: thread.roomId })
    .onConflictDoNothing();
  return { ok: true as const };
}

/** Stops following; a later reply by the caller follows again. */
export async function unfollowThread(deps: ChatDeps, caller: Caller, threadId: string) {
  const thread = await readableThread(deps, caller, threadId);
  await deps.db.delete(follows).where(and(eq(follows.userId, caller.id), eq(follows.threadId, thread.id)));
  return { ok: true as const };
}

/**
 * Moves the caller's read marker in a followed thread forward (never back), at most to the
 * room's last seq. A thread the caller does not follow is left alone (`following: false`).
 */
export async function markThreadRead(
  deps: ChatDeps,
  caller: Caller,
  input: { threadId: string; seq: number },
) {
  const thread = await readableThread(deps, caller, input.threadId);
  const [row] = await deps.db
    .update(follows)
    .set({
      lastReadSeq: sql`greatest(${follows.lastReadSeq},
        least(${input.seq}, (select last_seq from rooms where id = ${thread.roomId})))`,
    })
    .where(and(eq(follows.userId, caller.id), eq(follows.threadId, thread.id)))
    .returning({ lastReadSeq: follows.lastReadSeq });
  return { following: row !== undefined, lastReadSeq: row?.lastReadSeq ?? 0 };
}

/**
 * The threads the caller follows in rooms they may still read, most recently replied first, each
 * with its root, room name and unread count (live replies after the marker, not the caller's
 * own). A follow in a private room the caller left or was kicked from stays in the table but is
 * not shown, so rejoining brings it back.
 */
export async function followedThreads(
  deps: ChatDeps,
  caller: Caller,
  input: { cursor?: number; limit?: number } = {},
) {
  const limit = input.limit ?? 50;
  const offset = input.cursor ?? 0;
  const readable = readableRoomSql(caller, schema.rooms);
  const rows = await deps.db
    .select({
      threadId: follows.threadId,
      roomId: follows.roomId,
      roomName: schema.rooms.name,
      lastReadSeq: follows.lastReadSeq,
      authorName: schema.users.displayName,
      content: sql<string | null>`case when ${m.deletedAt} is null then ${m.content} end`,
      replyCount: m.replyCount,
      lastReplyAt: isoText(m.lastReplyAt),
      unreadCount: sql<number>`(select count(*)::int from messages r
        where r.parent_id = ${follows.threadId} and r.seq > ${follows.lastReadSeq}
          and r.user_id <> ${caller.id} and r.deleted_at is null)`,
    })
    .from(follows)
    .innerJoin(m, eq(m.id, follows.threadId))
    .innerJoin(schema.rooms, eq(schema.rooms.id, follows.roomId))
    .innerJoin(schema.users, eq(schema.users.id, m.userId))
    .where(and(eq(follows.userId, caller.id), readable))
    .orderBy(desc(sql`coalesce(${m.lastReplyAt}, ${m.createdAt})`), asc(follows.threadId))
    .limit(limit + 1)
    .offset(offset);
  return {
    items: rows.slice(0, limit),
    nextCursor: rows.length > limit ? offset + limit : null,
  };
}
