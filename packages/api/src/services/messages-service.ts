import { schema, type Transaction } from "@parley/db";
import { and, asc, desc, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { ChatError, messageNotFound } from "./chat-error.ts";
import { appendRoomEvent, type MessageView, publishRoomEvents, type RoomEvent } from "./room-events.ts";
import { readableRoom, requireMember } from "./rooms-service.ts";

const UNIQUE_VIOLATION = "23505";

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

type MessageRow = typeof schema.messages.$inferSelect;

function toView(row: MessageRow, authorName: string): MessageView {
  const deleted = row.deletedAt !== null;
  return {
    id: row.id,
    roomId: row.roomId,
    seq: row.seq,
    userId: row.userId,
    authorName,
    content: deleted ? null : row.content,
    clientMessageId: row.clientMessageId,
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt?.toISOString() ?? null,
    deletedAt: row.deletedAt?.toISOString() ?? null,
  };
}

async function findByClientId(deps: ChatDeps, caller: Caller, clientMessageId: string) {
  const [row] = await deps.db
    .select()
    .from(schema.messages)
    .where(and(eq(schema.messages.userId, caller.id), eq(schema.messages.clientMessageId, clientMessageId)));
  return row ?? null;
}

function sameSend(row: MessageRow, caller: Caller, roomId: string): MessageView {
  // A clientMessageId names one message: reusing it for another room is a client bug.
  if (row.roomId !== roomId) {
    throw new ChatError(
      "conflict",
      "This clientMessageId was already used in another room",
      "clientMessageId",
    );
  }
  return toView(row, caller.displayName);
}

/**
 * Sends a message. Idempotent: a retry with the same clientMessageId returns the first
 * message, even when both attempts race (the unique index decides, the loser reads the winner).
 */
export async function sendMessage(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; content: string; clientMessageId: string },
): Promise<MessageView> {
  await requireMember(deps, caller, input.roomId);
  const existing = await findByClientId(deps, caller, input.clientMessageId);
  if (existing) return sameSend(existing, caller, input.roomId);
  let event: RoomEvent & { type: "message.created" };
  try {
    event = await deps.db.transaction(async (tx) => {
      const [room] = await tx
        .update(schema.rooms)
        .set({ lastSeq: sql`${schema.rooms.lastSeq} + 1` })
        .where(eq(schema.rooms.id, input.roomId))
        .returning({ seq: schema.rooms.lastSeq });
      if (!room) throw new ChatError("not-found", "No such room");
      const [row] = await tx
        .insert(schema.messages)
        .values({
          roomId: input.roomId,
          seq: room.seq,
          userId: caller.id,
          content: input.content,
          clientMessageId: input.clientMessageId,
        })
        .returning();
      if (!row) throw new Error("insert returned no message");
      return storeEvent(tx, caller, {
        type: "message.created",
        roomId: input.roomId,
        seq: room.seq,
        message: toView(row, caller.displayName),
      });
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const winner = await findByClientId(deps, caller, input.clientMessageId);
    if (!winner) throw error;
    return sameSend(winner, caller, input.roomId);
  }
  await publishRoomEvents(deps.bus, [event]);
  return event.message;
}

/** The message's seq is the event's: stored directly rather than through appendRoomEvent. */
async function storeEvent<T extends RoomEvent>(tx: Transaction, caller: Caller, event: T): Promise<T> {
  await tx.insert(schema.roomEvents).values({
    roomId: event.roomId,
    seq: event.seq,
    type: event.type,
    messageId: event.type === "message.created" ? event.message.id : null,
    actorId: caller.id,
    payload: event,
  });
  return event;
}

/** Reactions of the given messages: per emoji, how many and whether the caller is among them. */
async function reactionsOf(deps: ChatDeps, caller: Caller, messageIds: string[]) {
  const byMessage = new Map<string, { emoji: string; count: number; mine: boolean }[]>();
  if (messageIds.length === 0) return byMessage;
  const rows = await deps.db
    .select({
      messageId: schema.reactions.messageId,
      emoji: schema.reactions.emoji,
      count: sql<number>`count(*)::int`,
      mine: sql<boolean>`bool_or(${schema.reactions.userId} = ${caller.id})`,
    })
    .from(schema.reactions)
    .where(inArray(schema.reactions.messageId, messageIds))
    .groupBy(schema.reactions.messageId, schema.reactions.emoji)
    .orderBy(asc(schema.reactions.emoji));
  for (const { messageId, ...reaction } of rows) {
    byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), reaction]);
  }
  return byMessage;
}

/**
 * A page of messages, newest first. `before` pages back through history; `after` pages
 * forward (the oldest `limit` after it). Deleted messages stay as tombstones.
 */
export async function listMessages(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; before?: number; after?: number; limit?: number },
) {
  await readableRoom(deps, caller, input.roomId);
  const limit = input.limit ?? 50;
  const m = schema.messages;
  const forward = input.after !== undefined;
  const where = and(
    eq(m.roomId, input.roomId),
    input.before !== undefined ? lt(m.seq, input.before) : undefined,
    input.after !== undefined ? gt(m.seq, input.after) : undefined,
  );
  const rows = await deps.db
    .select({ message: m, authorName: schema.users.displayName })
    .from(m)
    .innerJoin(schema.users, eq(schema.users.id, m.userId))
    .where(where)
    .orderBy(forward ? asc(m.seq) : desc(m.seq))
    .limit(limit + 1);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (forward) page.reverse();
  const reactions = await reactionsOf(
    deps,
    caller,
    page.map((r) => r.message.id),
  );
  const items = page.map((r) => ({
    ...toView(r.message, r.authorName),
    reactions: reactions.get(r.message.id) ?? [],
  }));
  // hasMore is in the paging direction: older with `before` (or none), newer with `after`.
  return { items, hasMore: more };
}

async function messageInReadableRoom(deps: ChatDeps, caller: Caller, messageId: string) {
  const [row] = await deps.db.select().from(schema.messages).where(eq(schema.messages.id, messageId));
  if (!row) throw messageNotFound();
  try {
    const access = await readableRoom(deps, caller, row.roomId);
    return { row, access };
  } catch (error) {
    // A message in a room the caller cannot see does not exist for them either.
    if (error instanceof ChatError && error.reason === "not-found") throw messageNotFound();
    throw error;
  }
}

export async function editMessage(
  deps: ChatDeps,
  caller: Caller,
  input: { messageId: string; content: string },
) {
  const { row } = await messageInReadableRoom(deps, caller, input.messageId);
  if (row.userId !== caller.id) throw new ChatError("forbidden", "Only the author can edit a message");
  if (row.deletedAt) throw messageNotFound();
  const event = await deps.db.transaction(async (tx) => {
    const editedAt = deps.clock();
    const updated = await tx
      .update(schema.messages)
      .set({ content: input.content, editedAt })
      .where(and(eq(schema.messages.id, row.id), isNull(schema.messages.deletedAt)))
      .returning({ id: schema.messages.id });
    if (updated.length === 0) throw messageNotFound();
    return appendRoomEvent(tx, row.roomId, caller.id, {
      type: "message.updated",
      messageId: row.id,
      content: input.content,
      editedAt: editedAt.toISOString(),
    });
  });
  await publishRoomEvents(deps.bus, [event]);
  return {
    id: row.id,
    content: input.content,
    editedAt: event.type === "message.updated" ? event.editedAt : null,
  };
}

export async function deleteMessage(deps: ChatDeps, caller: Caller, messageId: string) {
  const { row, access } = await messageInReadableRoom(deps, caller, messageId);
  const moderator = caller.role === "admin" || access.myRole === "owner" || access.myRole === "moderator";
  if (row.userId !== caller.id && !moderator) {
    throw new ChatError("forbidden", "Only the author or a moderator can delete a message");
  }
  if (row.deletedAt) return { id: row.id };
  const event = await deps.db.transaction(async (tx) => {
    const deletedAt = deps.clock();
    const updated = await tx
      .update(schema.messages)
      .set({ content: "", deletedAt })
      .where(and(eq(schema.messages.id, row.id), isNull(schema.messages.deletedAt)))
      .returning({ id: schema.messages.id });
    if (updated.length === 0) return null;
    return appendRoomEvent(tx, row.roomId, caller.id, {
      type: "message.deleted",
      messageId: row.id,
      deletedAt: deletedAt.toISOString(),
    });
  });
  if (event) await publishRoomEvents(deps.bus, [event]);
  return { id: row.id };
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
  const event = await deps.db.transaction(async (tx) => {
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
    if (changed.length === 0) return null;
    return appendRoomEvent(tx, row.roomId, caller.id, {
      type: add ? "reaction.added" : "reaction.removed",
      messageId: row.id,
      userId: caller.id,
      emoji: input.emoji,
    });
  });
  if (event) await publishRoomEvents(deps.bus, [event]);
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
  const readable =
    caller.role === "admin"
      ? sql`true`
      : sql`(not ${schema.rooms.isPrivate} or exists (select 1 from room_members rm
          where rm.room_id = ${m.roomId} and rm.user_id = ${caller.id}))`;
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
        input.roomId ? eq(m.roomId, input.roomId) : undefined,
      ),
    )
    .orderBy(desc(rank), desc(m.createdAt), asc(m.id))
    .limit(SEARCH_PAGE + 1)
    .offset(offset);
  return {
    items: rows
      .slice(0, SEARCH_PAGE)
      .map((r) => ({ ...toView(r.message, r.authorName), roomName: r.roomName })),
    nextCursor: rows.length > SEARCH_PAGE ? offset + SEARCH_PAGE : null,
  };
}
