import { type Queryable, schema } from "@parley/db";
import { and, eq, gt, isNull, or } from "drizzle-orm";
import { DomainError } from "../errors.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { normaliseForBlocklist, type RoomRules } from "./moderation-cache.ts";

// The checks the chat's writes make against a room's sanctions: kept apart from
// moderation-service.ts (which uses rooms-service.ts) so rooms and messages can call them.

/** How a sanction's end reads in an error. */
export function until(expiresAt: Date | number | null): string {
  return expiresAt === null ? "until lifted" : `until ${new Date(expiresAt).toISOString()}`;
}

/**
 * Refuses a post by a muted member, and (with `content`) text holding a blocked word. On every
 * send, edit and reaction: both lists come from the moderation cache, so a room without
 * sanctions or words costs two map lookups and no query. When both are cached (every post but
 * the first of a minute in a room) the check runs at once and returns no promise: the send path
 * awaits nothing for it. Callers await the result either way, so a refusal reaches them as a
 * rejection in both cases.
 */
export function refusePost(
  deps: ChatDeps,
  caller: Caller,
  roomId: string,
  content?: string,
): Promise<void> | undefined {
  const rules = deps.moderation.cachedRoom(roomId);
  const global = content === undefined ? null : deps.moderation.cachedGlobalBlocklist();
  if (rules === undefined || global === undefined)
    return refusePostAfterLoading(deps, caller, roomId, content);
  checkPost(deps, caller, rules, global, content);
  return undefined;
}

async function refusePostAfterLoading(deps: ChatDeps, caller: Caller, roomId: string, content?: string) {
  const rules = await deps.moderation.room(roomId);
  // The mute first, as before the global list is read: a muted member hears of the mute.
  checkPost(deps, caller, rules, null);
  if (content === undefined) return;
  checkPost(deps, caller, rules, await deps.moderation.globalBlocklist(), content);
}

function checkPost(
  deps: ChatDeps,
  caller: Caller,
  rules: RoomRules,
  global: RegExp | null,
  content?: string,
) {
  const mutedUntil = rules.mutes.get(caller.id);
  if (mutedUntil !== undefined && (mutedUntil === null || mutedUntil > deps.clock().getTime())) {
    throw new DomainError("forbidden", `You are muted in this room ${until(mutedUntil)}`);
  }
  if (content === undefined || (!rules.blocked && !global)) return;
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
