import { createHmac, timingSafeEqual } from "node:crypto";
import { insertMessage, messageViewOf, schema, type Transaction } from "@parley/db";
import { and, asc, count, eq, inArray, isNull, ne, type SQL, sql } from "drizzle-orm";
import type { MentionDigestData } from "../email/email-templates.ts";
import { DomainError, messageNotFound } from "../errors.ts";
import { markPlainJson } from "../plain-json.ts";
import { HANDLE_MAX, HANDLE_MIN, type ListMentionsInput, RESERVED_HANDLES } from "../schemas/mentions.ts";
import type { Caller, ChatDeps, MentionEmailSettings } from "./chat-deps.ts";
import { enqueueEmail } from "./email-outbox.ts";
import { cursorAt, decodeKeysetCursor, newestFirst, olderThan, pageOf } from "./keyset-cursor.ts";
import type { MessageView } from "./room-events.ts";

// `@name` at a word start (not inside an email address) and ending at a word end; a longer run
// of handle characters is not a handle and stays text.
const MENTION = new RegExp(`(?<![\\w@])@([A-Za-z0-9_]{${HANDLE_MIN},${HANDLE_MAX}})(?![\\w@])`, "g");
const ROOM_MENTION = "room";
/** Mentions listed in one email; the rest are counted ("and 12 more"). */
const DIGEST_MAX_ITEMS = 20;
const EXCERPT_LENGTH = 200;
const DIGEST_TEMPLATE = "mention-digest";

export interface ParsedMentions {
  handles: string[];
  room: boolean;
}

/** The handles a text mentions (lowercased, once each) and whether it says `@room`; null: none. */
export function parseMentions(content: string): ParsedMentions | null {
  const handles = new Set<string>();
  let room = false;
  for (const match of content.matchAll(MENTION)) {
    const name = (match[1] ?? "").toLowerCase();
    if (name === ROOM_MENTION) room = true;
    else if (!RESERVED_HANDLES.includes(name)) handles.add(name);
  }
  return handles.size > 0 || room ? { handles: [...handles], room } : null;
}

interface Mentioned {
  id: string;
  email: string;
  displayName: string;
  mentionEmails: boolean;
}

/**
 * Who the mentions name: members of the room with those handles (never the sender; a handle
 * that is unknown or not a member's stays text, so a send reveals nothing about who exists), and
 * `@room` only from the room's owner or a moderator.
 */
async function resolveMentions(tx: Transaction, caller: Caller, roomId: string, parsed: ParsedMentions) {
  const users =
    parsed.handles.length === 0
      ? []
      : await tx
          .select({
            id: schema.users.id,
            email: schema.users.email,
            displayName: schema.users.displayName,
            mentionEmails: schema.users.mentionEmails,
          })
          .from(schema.roomMembers)
          .innerJoin(schema.users, eq(schema.users.id, schema.roomMembers.userId))
          .where(
            and(
              eq(schema.roomMembers.roomId, roomId),
              inArray(schema.users.handle, parsed.handles),
              ne(schema.users.id, caller.id),
            ),
          )
          .orderBy(asc(schema.users.id));
  let room = false;
  if (parsed.room) {
    const [me] = await tx
      .select({ role: schema.roomMembers.role })
      .from(schema.roomMembers)
      .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, caller.id)));
    room = me?.role === "owner" || me?.role === "moderator";
  }
  return { users: users as Mentioned[], room };
}

/**
 * A send whose text has mentions, in one transaction: resolve them, write the message with its
 * `mentions`, the inbox rows, and the emails due. The message and its room event are written by
 * the same single statement as any send (insertMessage). Edits do not re-resolve: a message's
 * mentions are those of the text as sent, so editing cannot notify (or re-notify) anyone.
 */
/** A send's resolved mentions: what the message stores, and what to write once it exists. */
export interface SendMentions {
  ids: string[];
  room: boolean;
  /** The inbox rows and the batched emails, in the send's transaction, once the message is written. */
  deliver(tx: Transaction, message: MessageView): Promise<void>;
}

/**
 * Resolves a send's mentions inside its transaction (a plain send's or a thread reply's), before
 * the message is written.
 */
export async function mentionsIn(
  deps: ChatDeps,
  tx: Transaction,
  caller: Caller,
  roomId: string,
  parsed: ParsedMentions,
): Promise<SendMentions> {
  const resolved = await resolveMentions(tx, caller, roomId, parsed);
  const emailable = resolved.users.filter((user) => user.mentionEmails);
  // Online: holding an events or presence subscription to this room on any instance (the
  // presence tracker shares that through Redis). Such a user sees the mention arrive.
  const online =
    emailable.length > 0 && deps.mentionEmails
      ? new Set((await deps.presence.snapshot(roomId)).online.map((user) => user.userId))
      : new Set<string>();
  return {
    ids: resolved.users.map((user) => user.id),
    room: resolved.room,
    async deliver(tx, message) {
      const now = deps.clock();
      await writeInbox(tx, message, caller.id, resolved.users, resolved.room, now);
      const settings = deps.mentionEmails;
      const offline = emailable.filter((user) => !online.has(user.id));
      if (settings && offline.length > 0) {
        await queueMentionEmails(tx, settings, message, caller, offline, now);
      }
    },
  };
}

export async function sendWithMentions(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; content: string; clientMessageId: string },
  parsed: ParsedMentions,
) {
  return deps.db.transaction(async (tx) => {
    const mentions = await mentionsIn(deps, tx, caller, input.roomId, parsed);
    const row = await insertMessage(tx, {
      roomId: input.roomId,
      userId: caller.id,
      content: input.content,
      clientMessageId: input.clientMessageId,
      authorName: caller.displayName,
      mentions: mentions.ids,
      mentionsRoom: mentions.room,
    });
    if (row?.created) await mentions.deliver(tx, row.message);
    return row;
  });
}

/**
 * One inbox row per mentioned user. `@room` reaches every member but the sender with one
 * INSERT … SELECT in the send's transaction: one round trip however large the room (a 5,000
 * member room writes 5,000 small rows), and no email (see queueMentionEmails).
 */
async function writeInbox(
  tx: Transaction,
  message: MessageView,
  senderId: string,
  users: Mentioned[],
  room: boolean,
  now: Date,
) {
  const inbox = schema.mentionInbox;
  if (room) {
    await tx.execute(sql`insert into mention_inbox (user_id, message_id, room_id, seq, created_at)
      select rm.user_id, ${message.id}::uuid, ${message.roomId}::uuid, ${message.seq}, ${now.toISOString()}::timestamptz
        from room_members rm where rm.room_id = ${message.roomId}::uuid and rm.user_id <> ${senderId}
      on conflict do nothing`);
    return;
  }
  if (users.length === 0) return;
  await tx
    .insert(inbox)
    .values(
      users.map((user) => ({
        userId: user.id,
        messageId: message.id,
        roomId: message.roomId,
        seq: message.seq,
        createdAt: now,
      })),
    )
    .onConflictDoNothing();
}

function excerpt(content: string | null): string {
  const text = (content ?? "").replace(/\s+/g, " ").trim();
  return text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH - 1)}…` : text;
}

/**
 * Mention emails, batched per user: the first mention since the user's last email opens a
 * digest, sent one window later (`last_mention_email_at` holds when it goes); later mentions
 * before then join that digest. So at most one email per user per window, each listing the
 * mentions since the previous one. The users' rows are locked (in id order, so two sends cannot
 * deadlock) so that two sends do not both open a digest.
 * `@room` sends no email: one message from a moderator would mail every member.
 */
async function queueMentionEmails(
  tx: Transaction,
  settings: MentionEmailSettings,
  message: MessageView,
  sender: Caller,
  users: Mentioned[],
  now: Date,
) {
  const [room] = await tx
    .select({ name: schema.rooms.name })
    .from(schema.rooms)
    .where(eq(schema.rooms.id, message.roomId));
  const item = {
    roomName: room?.name ?? "",
    authorName: sender.displayName,
    excerpt: excerpt(message.content),
  };
  const locked = await tx
    .select({
      id: schema.users.id,
      email: schema.users.email,
      displayName: schema.users.displayName,
      dueAt: schema.users.lastMentionEmailAt,
    })
    .from(schema.users)
    .where(
      and(
        inArray(
          schema.users.id,
          users.map((user) => user.id),
        ),
        eq(schema.users.mentionEmails, true),
      ),
    )
    .orderBy(asc(schema.users.id))
    .for("update");
  for (const user of locked) {
    // A digest not yet taken by the worker: this mention joins it (listed, or counted once full).
    const joined = await tx.execute(sql`update email_outbox
         set data = case when jsonb_array_length(data->'mentions') < ${DIGEST_MAX_ITEMS}
                      then jsonb_set(data, '{mentions}', (data->'mentions') || ${JSON.stringify([item])}::jsonb)
                      else jsonb_set(data, '{more}', to_jsonb((data->>'more')::int + 1)) end
       where template = ${DIGEST_TEMPLATE} and status = 'pending' and data->>'userId' = ${user.id}
       returning id`);
    if (rowCount(joined) > 0) continue;
    const dueAt = new Date(Math.max(now.getTime(), user.dueAt?.getTime() ?? 0) + settings.windowMs);
    const data: MentionDigestData = {
      userId: user.id,
      displayName: user.displayName,
      mentions: [item],
      more: 0,
      inboxUrl: `${settings.publicOrigin}/mentions`,
      unsubscribeUrl: `${settings.publicOrigin}/unsubscribe/mentions?token=${unsubscribeToken(settings.secret, user.id)}`,
    };
    await enqueueEmail(tx, user.email, { template: DIGEST_TEMPLATE, data }, { runAt: dueAt });
    await tx.update(schema.users).set({ lastMentionEmailAt: dueAt }).where(eq(schema.users.id, user.id));
  }
}

function rowCount(result: unknown): number {
  const r = result as { rowCount?: number | null; affectedRows?: number; rows?: unknown[] };
  return r.rows?.length ?? r.rowCount ?? r.affectedRows ?? 0;
}

// ---- Unsubscribe links ----

function signature(secret: string, userId: string): string {
  return createHmac("sha256", secret).update(`mention-emails:${userId}`).digest("base64url");
}

/** `<user id, base64url>.<HMAC of it>`: opens no session, only turns mention emails off. */
export function unsubscribeToken(secret: string, userId: string): string {
  return `${Buffer.from(userId).toString("base64url")}.${signature(secret, userId)}`;
}

/** The user a token was signed for, or null for anything we did not sign. */
export function userOfUnsubscribeToken(secret: string, token: string): string | null {
  const [encodedId, given, ...rest] = token.split(".");
  if (!encodedId || !given || rest.length > 0 || token.length > 300) return null;
  const userId = Buffer.from(encodedId, "base64url").toString("utf8");
  const expected = Buffer.from(signature(secret, userId));
  const presented = Buffer.from(given);
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return null;
  return userId;
}

/** Turns mention emails off for the token's user and drops their digest not yet sent. */
export async function unsubscribeFromMentionEmails(
  deps: Pick<ChatDeps, "db" | "clock">,
  secret: string,
  token: string,
): Promise<{ email: string }> {
  const userId = userOfUnsubscribeToken(secret, token);
  if (!userId) throw new DomainError("invalid", "This unsubscribe link is not valid", "token");
  const result = await setMentionEmails(deps, userId, false);
  if (!result) throw new DomainError("invalid", "This unsubscribe link is not valid", "token");
  return result;
}

/** The preference; turning it off also drops the digest waiting to go. */
export async function setMentionEmails(
  deps: Pick<ChatDeps, "db" | "clock">,
  userId: string,
  enabled: boolean,
): Promise<{ email: string; mentionEmails: boolean } | null> {
  return deps.db.transaction(async (tx) => {
    const [user] = await tx
      .update(schema.users)
      .set({ mentionEmails: enabled, updatedAt: deps.clock() })
      .where(eq(schema.users.id, userId))
      .returning({ email: schema.users.email, mentionEmails: schema.users.mentionEmails });
    if (!user) return null;
    if (!enabled) {
      await tx.execute(sql`delete from email_outbox
         where template = ${DIGEST_TEMPLATE} and status = 'pending' and data->>'userId' = ${userId}`);
    }
    return user;
  });
}

export async function mentionPreferences(deps: Pick<ChatDeps, "db">, userId: string) {
  const [row] = await deps.db
    .select({ handle: schema.users.handle, mentionEmails: schema.users.mentionEmails })
    .from(schema.users)
    .where(eq(schema.users.id, userId));
  if (!row) throw new DomainError("not-found", "No such user");
  return row;
}

// ---- The inbox ----

/**
 * What the caller may still see: a mention in a private room they have left (or were removed
 * from) is gone, like the room; a deleted message's mention is gone with it.
 */
function visibleTo(userId: string): SQL {
  const inbox = schema.mentionInbox;
  return sql`${inbox.userId} = ${userId}
    and exists (select 1 from messages m where m.id = ${inbox.messageId} and m.deleted_at is null)
    and exists (select 1 from rooms r where r.id = ${inbox.roomId}
                 and (not r.is_private or exists (select 1 from room_members rm
                        where rm.room_id = r.id and rm.user_id = ${userId})))`;
}

const DEFAULT_PAGE = 30;

/** The caller's mentions, newest first, each with its message and room name. */
export async function listMentions(deps: Pick<ChatDeps, "db">, caller: Caller, input: ListMentionsInput) {
  const limit = input?.limit ?? DEFAULT_PAGE;
  const after = input?.cursor ? decodeKeysetCursor(input.cursor) : null;
  if (input?.cursor && !after) throw new DomainError("invalid", "Is not a valid cursor", "cursor");
  const inbox = schema.mentionInbox;
  const rows = await deps.db
    .select({
      id: inbox.messageId,
      cursorAt: cursorAt(inbox.createdAt),
      mentionedAt: inbox.createdAt,
      readAt: inbox.readAt,
      roomName: schema.rooms.name,
      message: schema.messages,
      authorName: schema.users.displayName,
    })
    .from(inbox)
    .innerJoin(schema.messages, eq(schema.messages.id, inbox.messageId))
    .innerJoin(schema.rooms, eq(schema.rooms.id, inbox.roomId))
    .innerJoin(schema.users, eq(schema.users.id, schema.messages.userId))
    .where(
      and(
        visibleTo(caller.id),
        input?.unreadOnly ? isNull(inbox.readAt) : undefined,
        after ? olderThan(inbox.createdAt, inbox.messageId, after) : undefined,
      ),
    )
    .orderBy(...newestFirst(inbox.createdAt, inbox.messageId))
    .limit(limit + 1);
  const page = pageOf(rows, limit);
  return {
    items: page.items.map((row) => ({
      message: markPlainJson(messageViewOf(row.message, row.authorName)) as MessageView,
      roomName: row.roomName,
      mentionedAt: row.mentionedAt,
      read: row.readAt !== null,
    })),
    nextCursor: page.nextCursor,
  };
}

export async function unreadMentionCount(deps: Pick<ChatDeps, "db">, caller: Caller) {
  const inbox = schema.mentionInbox;
  const [row] = await deps.db
    .select({ n: count() })
    .from(inbox)
    .where(and(visibleTo(caller.id), isNull(inbox.readAt)));
  return { count: row?.n ?? 0 };
}

/** Marks one mention (by its message) read, or every one; a mention the caller cannot see is NOT_FOUND. */
export async function markMentionsRead(
  deps: Pick<ChatDeps, "db" | "clock">,
  caller: Caller,
  input: { messageId?: string | undefined } | undefined,
) {
  const inbox = schema.mentionInbox;
  const messageId = input?.messageId;
  if (messageId) {
    const [found] = await deps.db
      .select({ readAt: inbox.readAt })
      .from(inbox)
      .where(and(visibleTo(caller.id), eq(inbox.messageId, messageId)));
    if (!found) throw messageNotFound();
  }
  const marked = await deps.db
    .update(inbox)
    .set({ readAt: deps.clock() })
    .where(
      and(
        eq(inbox.userId, caller.id),
        isNull(inbox.readAt),
        messageId ? eq(inbox.messageId, messageId) : undefined,
      ),
    )
    .returning({ messageId: inbox.messageId });
  return { marked: marked.length };
}
