import { subscribeBuffered } from "../bus/bus-iterator.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { type PresenceSnapshot, presenceTopic } from "./presence-tracker.ts";
import { requireMember } from "./rooms-service.ts";

const asPresenceUser = (caller: Caller) => ({ userId: caller.id, displayName: caller.displayName });

/** Presence snapshots of a room: one at once, then one per change. Marks the caller online. */
export async function* streamPresence(
  deps: ChatDeps,
  caller: Caller,
  roomId: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<PresenceSnapshot> {
  await requireMember(deps, caller, roomId);
  const live = subscribeBuffered<unknown>(deps.bus, presenceTopic(roomId), signal);
  const leave = deps.presence.join(roomId, asPresenceUser(caller));
  try {
    yield await deps.presence.snapshot(roomId);
    // Each notice (from any instance) means "changed": one fresh snapshot covers a burst of them.
    while (await live.take()) yield await deps.presence.snapshot(roomId);
  } finally {
    live.close();
    leave();
  }
}

export async function typing(deps: ChatDeps, caller: Caller, roomId: string) {
  await requireMember(deps, caller, roomId);
  await deps.presence.typing(roomId, asPresenceUser(caller));
  return { ok: true as const };
}
