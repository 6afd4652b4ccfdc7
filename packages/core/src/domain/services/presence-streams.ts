import { schema } from "@parley/db";
import { and, eq } from "drizzle-orm";
import { subscribeBuffered } from "../bus/bus-iterator.ts";
import { DomainError } from "../errors.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { type MembershipChanged, membershipTopic } from "./membership-cache.ts";
import { type PresenceSnapshot, presenceTopic } from "./presence-tracker.ts";
import { requireMember } from "./rooms-service.ts";

const asPresenceUser = (caller: Caller) => ({ userId: caller.id, displayName: caller.displayName });

/** Read from the database, not the membership cache: it decides whether a stream goes on. */
async function isMemberNow(deps: ChatDeps, roomId: string, userId: string): Promise<boolean> {
  const [row] = await deps.db
    .select({ userId: schema.roomMembers.userId })
    .from(schema.roomMembers)
    .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, userId)));
  return row !== undefined;
}

/**
 * Presence snapshots of a room: one at once, then one per change. Marks the caller online
 * while they are a member: a kick, a leave or the room's deletion ends the stream (FORBIDDEN)
 * and takes them off the others' snapshots.
 */
export async function* streamPresence(
  deps: ChatDeps,
  caller: Caller,
  roomId: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<PresenceSnapshot> {
  await requireMember(deps, caller, roomId);
  const lost = new AbortController();
  // Watch before the fresh check: a removal committed after it is announced to this listener.
  const stopWatching = deps.bus.subscribe(membershipTopic, (message) => {
    const change = message as MembershipChanged;
    if (change.roomId !== roomId || (change.userId && change.userId !== caller.id)) return;
    isMemberNow(deps, roomId, caller.id).then(
      (member) => {
        if (!member) lost.abort();
      },
      // The stream cannot tell whether access remains: it ends rather than go on unchecked.
      () => lost.abort(),
    );
  });
  const ended = signal ? AbortSignal.any([signal, lost.signal]) : lost.signal;
  const live = subscribeBuffered<unknown>(deps.bus, presenceTopic(roomId), ended);
  let leave = () => {};
  try {
    if (!(await isMemberNow(deps, roomId, caller.id))) lost.abort();
    if (!lost.signal.aborted) {
      leave = deps.presence.join(roomId, asPresenceUser(caller));
      yield await deps.presence.snapshot(roomId);
      // Each notice (from any instance) means "changed": one fresh snapshot covers a burst of them.
      while (await live.take()) yield await deps.presence.snapshot(roomId);
    }
    if (lost.signal.aborted && !signal?.aborted) {
      throw new DomainError("forbidden", "You no longer have access to this room");
    }
  } finally {
    stopWatching();
    live.close();
    leave();
  }
}

export async function typing(deps: ChatDeps, caller: Caller, roomId: string) {
  await requireMember(deps, caller, roomId);
  await deps.presence.typing(roomId, asPresenceUser(caller));
  return { ok: true as const };
}
