import { type Queryable, schema } from "@parley/db";
import { and, eq, gt, isNull, or } from "drizzle-orm";
import { DomainError } from "../errors.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { normaliseForBlocklist } from "./moderation-cache.ts";

// The checks the chat's writes make against a room's sanctions: kept apart from
// moderation-service.ts (which uses rooms-service.ts) so rooms and messages can call them.

/** How a sanction's end reads in an error. */
export function until(expiresAt: Date | number | null): string {
  return expiresAt === null ? "until lifted" : `until ${new Date(expiresAt).toISOString()}`;
}

/**
 * Refuses a post by a muted member, and (with `content`) text holding a blocked word. On every
 * send, edit and reaction: both lists come from the moderation cache, so a room without
 * sanctions or words costs two map lookups and no query.
 */
export async function refusePost(deps: ChatDeps, caller: Caller, roomId: string, content?: string) {
  const rules = await deps.moderation.room(roomId);
  const mutedUntil = rules.mutes.get(caller.id);
  if (mutedUntil !== undefined && (mutedUntil === null || mutedUntil > deps.clock().getTime())) {
    throw new DomainError("forbidden", `You are muted in this room ${until(mutedUntil)}`);
  }
  if (content === undefined) return;
  const global = await deps.moderation.globalBlocklist();
  if (!rules.blocked && !global) return;
  const text = normaliseForBlocklist(content);
  if (rules.blocked?.test(text) || global?.test(text)) {
    // The list itself is not echoed: it would teach how to get around it.
    throw new DomainError("invalid", "The message contains a word that is not allowed here", "content");
  }
}

async function activeBan(tx: Queryable, roomId: string, userId: string, now: Date) {
  const [ban] = await tx
    .select({ expiresAt: schema.roomRestrictions.expiresAt })
    .from(schema.roomRestrictions)
    .where(
      and(
        eq(schema.roomRestrictions.roomId, roomId),
        eq(schema.roomRestrictions.userId, userId),
        eq(schema.roomRestrictions.kind, "ban"),
        or(isNull(schema.roomRestrictions.expiresAt), gt(schema.roomRestrictions.expiresAt, now)),
      ),
    );
  return ban ?? null;
}

/**
 * Inside the transaction that adds a member: refuses a banned user. The room row is locked
 * first, as a ban locks it first, so a join and a ban on the same room commit one after the
 * other and the later sees the earlier (a ban cannot miss a join that was just checked).
 */
export async function refuseBannedMember(
  tx: Queryable,
  roomId: string,
  userId: string,
  now: Date,
  invitedBy: string,
) {
  await tx
    .select({ id: schema.rooms.id })
    .from(schema.rooms)
    .where(eq(schema.rooms.id, roomId))
    .for("update");
  const ban = await activeBan(tx, roomId, userId, now);
  if (!ban) return;
  const message =
    invitedBy === userId
      ? `You are banned from this room ${until(ban.expiresAt)}`
      : `This user is banned from this room ${until(ban.expiresAt)}`;
  throw new DomainError("forbidden", message);
}
