import { type SQLWrapper, sql } from "drizzle-orm";
import type { Caller } from "./chat-deps.ts";

/**
 * The one rule for a site admin in a room they are not a member of: an admin reads (and
 * moderates) any private room, to answer reports and abuse, but never a direct message. A DM is
 * its members' conversation and nobody else's: to an admin outside it, it is NOT_FOUND on every
 * path, exactly as to any outsider. Every admin exemption in the chat services asks this
 * function (or `adminOverrideSql`, its SQL form); the history statement in @parley/db applies the
 * same rule as `$3::boolean and r.kind <> 'dm'`.
 */
export function adminOverrides(caller: Caller, room: { kind: string }): boolean {
  return caller.role === "admin" && room.kind !== "dm";
}

/** `adminOverrides` over a rooms row's `kind` column, for statements that filter many rooms. */
export function adminOverrideSql(caller: Caller, roomKind: SQLWrapper) {
  return caller.role === "admin" ? sql`(${roomKind} <> 'dm')` : sql`false`;
}

/**
 * Whether the caller may read a room in a statement over many: public, the caller's, or (for an
 * admin) any private room that is not a DM. `roomId`, `isPrivate` and `kind` are the row's columns.
 */
export function readableRoomSql(
  caller: Caller,
  room: { id: SQLWrapper; isPrivate: SQLWrapper; kind: SQLWrapper },
) {
  return sql`(not ${room.isPrivate} or ${adminOverrideSql(caller, room.kind)} or exists (select 1
    from room_members rm where rm.room_id = ${room.id} and rm.user_id = ${caller.id}))`;
}
