import type { Queryable } from "../create-db.ts";
import type { AttachmentViewJson } from "../schema.ts";
import { defineStatement } from "../statements.ts";
import {
  type MessageViewJson,
  messageViewColumns,
  messageViewColumnsOf,
  messageViewPairs,
  messageViewSelect,
  messageViewSql,
} from "./message-view.ts";

// The hot paths' SQL (a send, a page of history) as fixed statements: their texts are built here
// once, at module load, from the one definition of the message view.

const viewColumns = messageViewColumns.join(", ");

/**
 * A send in one statement, one round trip (it was six: the idempotency lookup, then BEGIN,
 * UPDATE, INSERT, INSERT, COMMIT): the message already sent with this clientMessageId, if any;
 * otherwise the room's next seq, taken by the UPDATE, whose row lock is held until the
 * statement commits (commit order is seq order), the message, and its message.created event.
 * A concurrent send of the same clientMessageId fails on the unique index and the whole
 * statement rolls back, as the transaction did. Membership holds where the message is written:
 * the sender's member row is locked (FOR KEY SHARE, which a kick's or a leave's DELETE waits
 * for) before the seq is taken, so a send either commits before the sender leaves (its seq
 * before the member.left event) or finds no row once the removal committed and writes nothing.
 * A plain subquery would read the statement's snapshot and miss a removal committed while it
 * waited for the room row. In a one-to-one DM (a dm_key of two ids) a block between the two, either
 * way, refuses the send the same way (no row); a room without a dm_key never reaches that
 * subquery, so an ordinary send costs what it did. $1 room, $2 caller, $3 content,
 * $4 clientMessageId, $5 the caller's display name, $6 the mentioned user ids (an array literal),
 * $7 whether it mentions the whole room, $8 the views of its files (a json array; `[]` without).
 */
const sendStatement = defineStatement<{ created: boolean; message: MessageViewJson }>(
  "parley_send_message",
  `with existing as (
     select ${viewColumns}
       from messages where user_id = $2::text and client_message_id = $4::text
   ), room as (
     update rooms set last_seq = last_seq + 1
      where id = $1::uuid and not exists (select 1 from existing)
        and exists (select 1 from room_members
                     where room_id = $1::uuid and user_id = $2::text for key share)
        and (dm_key is null or not exists (
              select 1 from user_blocks b
               where cardinality(string_to_array(dm_key, ',')) = 2
                 and b.blocker_id = any(string_to_array(dm_key, ','))
                 and b.blocked_id = any(string_to_array(dm_key, ','))))
     returning last_seq
   ), created as (
     insert into messages (room_id, seq, user_id, content, client_message_id, mentions, mentions_room, attachments)
     select $1::uuid, last_seq, $2::text, $3::text, $4::text, $6::text[], $7::boolean, $8::jsonb from room
     returning ${viewColumns}
   ), event as (
     insert into room_events (room_id, seq, type, message_id, actor_id, payload)
     select c.room_id, c.seq, 'message.created', c.id, $2::text,
            jsonb_build_object('type', 'message.created', 'roomId', c.room_id, 'seq', c.seq,
                               'message', ${messageViewSql("c", "$5::text")})
       from created c
   )
   select true as created, ${messageViewSql("c", "$5::text")} as message from created c
   union all
   select false as created, ${messageViewSql("e", "$5::text")} as message from existing e`,
);

/**
 * Sends a message, or finds the one this user already sent with this clientMessageId
 * (`created: false`). None when the sender is not a member of the room. A concurrent send of the
 * same clientMessageId makes this fail with a unique violation (23505): see sentBefore.
 */
export async function insertMessage(
  db: Queryable,
  input: {
    roomId: string;
    userId: string;
    content: string;
    clientMessageId: string;
    authorName: string;
    mentions?: readonly string[];
    mentionsRoom?: boolean;
    attachments?: readonly AttachmentViewJson[];
  },
): Promise<{ created: boolean; message: MessageViewJson } | undefined> {
  const [row] = await sendStatement.run(db, [
    input.roomId,
    input.userId,
    input.content,
    input.clientMessageId,
    input.authorName,
    // A literal, not a JS array: inside a Drizzle transaction an array parameter would be spread
    // into a list of parameters. User ids are [A-Za-z0-9-]: nothing to quote.
    `{${(input.mentions ?? []).join(",")}}`,
    input.mentionsRoom ?? false,
    input.attachments ? JSON.stringify(input.attachments) : "[]",
  ]);
  return row;
}

const sentBeforeStatement = defineStatement<{ message: MessageViewJson }>(
  "parley_sent_before",
  `select ${messageViewSql("e", "$3::text")} as message
     from messages e where e.user_id = $1::text and e.client_message_id = $2::text`,
);

/** The message sent with this clientMessageId: for the loser of a race between two sends. */
export async function sentBefore(
  db: Queryable,
  input: { userId: string; clientMessageId: string; authorName: string },
): Promise<MessageViewJson | undefined> {
  const [row] = await sentBeforeStatement.run(db, [input.userId, input.clientMessageId, input.authorName]);
  return row?.message;
}

export type HistoryItem = MessageViewJson & { reactions: { emoji: string; count: number; mine: boolean }[] };

/**
 * A page of messages as a json array built by PostgreSQL, each with its reactions per emoji (how
 * many, whether the caller is among them). Times as `toISOString()` gives them (milliseconds,
 * truncated), tombstones without content, and without the messages of users the caller blocked
 * (hidden from the blocker everywhere). `where` picks the rows from `messages m`; `limit` and
 * `caller` are the SQL for the row count and the caller's id. A thread's page (its root and its
 * replies in one statement); the room's history reads the same view and reactions as rows.
 */
export function messagePageSql(where: string, order: "asc" | "desc", limit: string, caller: string) {
  return `select coalesce(json_agg(json_build_object(
                       ${messageViewPairs("p", "p.author_name")},
                       'reactions', coalesce(x.reactions, '[]'::json)
                     ) order by p.seq ${order}), '[]'::json)
                from (select ${messageViewColumnsOf("m")}, u.display_name as author_name
                        from messages m join users u on u.id = m.user_id
                       where ${where}
                         and not exists (select 1 from user_blocks ub
                                          where ub.blocker_id = ${caller} and ub.blocked_id = m.user_id)
                       order by m.seq ${order}
                       limit ${limit}) p
                left join lateral (
                  select json_agg(json_build_object('emoji', g.emoji, 'count', g.count, 'mine', g.mine)
                                  order by g.emoji) as reactions
                    from (select emoji, count(*)::int as count, bool_or(user_id = ${caller}) as mine
                            from reactions where message_id = p.id group by emoji) g
                ) x on true`;
}

/**
 * One page of a room's history, when the caller may read the room: its top-level messages in
 * paging order, `limit + 1` of them, one row each, or one row of nulls for a readable room with
 * none; no row when the room does not exist or the caller may not read it. Thread replies are not
 * in the room's timeline: each root carries their count (`chat.threads.list` pages them). The
 * filter on parent_id is applied while walking messages_room_seq_idx, so the plan is unchanged.
 * The rows are the view's columns (messageViewSelect), not a json page: json_build_object per
 * message and a reactions subquery per message cost PostgreSQL about three times what these rows
 * and one reactions aggregate over the page cost, and the server then parsed the json it had built.
 * $1 room, $2 before/after seq, $3 the caller is an admin, $4 rows to fetch, $5 the caller.
 * An admin reads private rooms but never a DM: core's room-visibility.ts rule, in SQL.
 */
function historyStatement(name: string, seqCondition: string, order: "asc" | "desc") {
  return defineStatement<HistoryRow>(
    name,
    `with page as materialized (
       select p.*
         from rooms r
         left join lateral (
           select ${messageViewColumnsOf("m")}, u.display_name as author_name
             from messages m join users u on u.id = m.user_id
            where m.room_id = $1::uuid and m.parent_id is null and ${seqCondition}
              and not exists (select 1 from user_blocks ub
                               where ub.blocker_id = $5::text and ub.blocked_id = m.user_id)
            order by m.seq ${order}
            limit $4
         ) p on true
        where r.id = $1::uuid
          and (not r.is_private or ($3::boolean and r.kind <> 'dm')
               or exists (select 1 from room_members rm where rm.room_id = r.id and rm.user_id = $5::text))
     ), page_reactions as (
       select g.message_id,
              json_agg(json_build_object('emoji', g.emoji, 'count', g.count, 'mine', g.mine) order by g.emoji)
                as reactions
         from (select message_id, emoji, count(*)::int as count, bool_or(user_id = $5::text) as mine
                 from reactions where message_id in (select id from page)
                group by message_id, emoji) g
        group by g.message_id
     )
     select ${messageViewSelect("p", "p.author_name")}, x.reactions
       from page p left join page_reactions x on x.message_id = p.id
      order by p.seq ${order}`,
  );
}

/** A row of the history statement: a message's view, its reactions null when it has none. */
type HistoryRow = {
  [K in keyof HistoryItem]: K extends "reactions" ? HistoryItem[K] | null : HistoryItem[K];
};

const newestBefore = historyStatement(
  "parley_history_before",
  "m.seq < coalesce($2::bigint, 9223372036854775807)",
  "desc",
);
const oldestAfter = historyStatement("parley_history_after", "m.seq > $2::bigint", "asc");

/**
 * What a cached page of a room's history depends on, when the caller may read the room (the
 * history statement's rule, the same SQL): the room's last seq, which every change to its
 * timeline takes in the change's transaction (a send, a thread reply, an edit, a delete, a
 * reaction: see appendRoomEvent), and the caller's blocks, whose authors the page hides. A block
 * is named by its row's xmin beside the blocked id: the last seq only grows, but the blocks can
 * return to an earlier set, and a page read while a block was lifted and made again would
 * otherwise be stored under a version equal to the current one. No row when the room does not
 * exist or the caller may not read it. $1 room, $2 the caller is an admin, $3 the caller.
 */
const historyVersionStatement = defineStatement<{ lastSeq: number; blocked: string }>(
  "parley_history_version",
  `select r.last_seq::float8 as "lastSeq",
          coalesce((select string_agg(ub.blocked_id || '@' || ub.xmin, ',' order by ub.blocked_id)
                      from user_blocks ub where ub.blocker_id = $3::text), '') as "blocked"
     from rooms r
    where r.id = $1::uuid
      and (not r.is_private or ($2::boolean and r.kind <> 'dm')
           or exists (select 1 from room_members rm where rm.room_id = r.id and rm.user_id = $3::text))`,
);

/**
 * The version of a room's history as this caller sees it (see historyVersionStatement), or
 * undefined when the room does not exist or the caller may not read it. Two equal versions read
 * at different times mean the same pages, byte for byte.
 */
export async function historyVersion(
  db: Queryable,
  input: { roomId: string; callerId: string; admin: boolean },
): Promise<{ lastSeq: number; blocked: string } | undefined> {
  const [row] = await historyVersionStatement.run(db, [input.roomId, input.admin, input.callerId]);
  return row;
}

/** The history statements, for a test that checks their plans. */
export const historyStatements = [newestBefore, oldestAfter] as const;

/**
 * A page of a room's messages: newest first before `before` (or the newest), or the oldest after
 * `after`, oldest first; `limit` rows (the caller asks for one more than it shows, to know
 * whether there are more). Undefined when the room does not exist or the caller may not read it
 * (private, not a member, not an admin).
 */
export async function historyPage(
  db: Queryable,
  input: { roomId: string; before?: number; after?: number; limit: number; callerId: string; admin: boolean },
): Promise<HistoryItem[] | undefined> {
  const forward = input.after !== undefined;
  const statement = forward ? oldestAfter : newestBefore;
  const rows = await statement.run(db, [
    input.roomId,
    forward ? input.after : (input.before ?? null),
    input.admin,
    input.limit,
    input.callerId,
  ]);
  const first = rows[0];
  if (!first) return undefined;
  if (first.id === null) return [];
  // Each row already has the view's keys in wire order, reactions last: only its null is replaced.
  for (const row of rows) row.reactions ??= [];
  return rows as HistoryItem[];
}
