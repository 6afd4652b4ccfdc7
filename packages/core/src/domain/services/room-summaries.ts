import { type SQLWrapper, sql } from "drizzle-orm";

/**
 * What a room list shows of each room beside its own columns: the last message and the caller's
 * unread count. One definition for chat.rooms.list and chat.dms.list. Both are about the room's
 * timeline, which shows top-level messages only: a thread reply is neither the room's last
 * message nor unread in it (it shows in its root's reply count, and is unread in
 * chat.threads.followed for those who follow the thread), so the badge never counts what opening
 * the room cannot show.
 */
export interface LastMessage {
  id: string;
  seq: number;
  userId: string;
  content: string | null;
  createdAt: string;
}

/** The room's newest top-level message the caller may see (a tombstone without its text). */
export function lastMessageSql(roomId: SQLWrapper, callerId: string) {
  return sql<LastMessage | null>`(select json_build_object('id', x.id, 'seq', x.seq, 'userId', x.user_id,
      'content', case when x.deleted_at is null then x.content end, 'createdAt', x.created_at)
    from messages x where x.room_id = ${roomId} and x.parent_id is null
      and not exists (select 1 from user_blocks ub where ub.blocker_id = ${callerId} and ub.blocked_id = x.user_id)
    order by x.seq desc limit 1)`;
}

/**
 * Top-level messages after the caller's read marker, not their own, not deleted, and not by someone they
 * blocked (those are hidden from them everywhere). `lastReadSeq` null: not a member, nothing unread.
 */
export function unreadCountSql(roomId: SQLWrapper, lastReadSeq: SQLWrapper, callerId: string) {
  return sql<number>`case when ${lastReadSeq} is null then 0 else (select count(*)::int from messages u
    where u.room_id = ${roomId} and u.parent_id is null and u.seq > ${lastReadSeq}
      and u.user_id <> ${callerId} and u.deleted_at is null
      and not exists (select 1 from user_blocks ub where ub.blocker_id = ${callerId} and ub.blocked_id = u.user_id)) end`;
}
