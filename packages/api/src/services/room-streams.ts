import { schema } from "@parley/db";
import { eq } from "drizzle-orm";
import { subscribeBuffered } from "../bus/bus-iterator.ts";
import type { RESYNC_EVENT } from "../bus/event-bus.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { ChatError, roomNotFound } from "./chat-error.ts";
import { type PresenceSnapshot, presenceTopic } from "./presence-tracker.ts";
import { type RoomDeletedSignal, type RoomEvent, readRoomEvents, roomTopic } from "./room-events.ts";
import { readableRoom, requireMember } from "./rooms-service.ts";

const REPLAY_PAGE = 500;

const asPresenceUser = (caller: Caller) => ({ userId: caller.id, displayName: caller.displayName });

const lostAccess = () => new ChatError("forbidden", "You no longer have access to this room");

/**
 * Every event of a room after `afterSeq` (or from now, when null), in seq order, each once.
 * Subscribes to the bus before reading the backlog, so nothing committed in between is lost;
 * events already yielded are skipped, and a gap in the live stream (events published out of
 * order, or lost by the bus) is filled from the database, where every event is stored.
 */
export async function* streamRoomEvents(
  deps: ChatDeps,
  caller: Caller,
  roomId: string,
  afterSeq: number | null,
  signal: AbortSignal | undefined,
): AsyncGenerator<RoomEvent> {
  const access = await readableRoom(deps, caller, roomId);
  const live = subscribeBuffered<RoomEvent | RoomDeletedSignal | typeof RESYNC_EVENT>(
    deps.bus,
    roomTopic(roomId),
    signal,
  );
  const leave = access.myRole ? deps.presence.join(roomId, asPresenceUser(caller)) : () => {};
  try {
    let last = afterSeq ?? (await currentSeq(deps, roomId));
    const catchUp = async function* () {
      for (;;) {
        const page = await readRoomEvents(deps.db, roomId, last, REPLAY_PAGE);
        for (const event of page) {
          last = event.seq;
          yield event;
        }
        if (page.length < REPLAY_PAGE) return;
      }
    };
    yield* catchUp();
    for (;;) {
      const batch = await live.take();
      if (!batch) return;
      for (const event of batch) {
        if (event.type === "room.deleted") throw lostAccess();
        if (event.type === "resync") {
          yield* catchUp();
          continue;
        }
        if (event.seq <= last) continue;
        if (event.seq > last + 1) {
          yield* catchUp();
          continue;
        }
        last = event.seq;
        yield event;
        if (await accessEndedBy(deps, caller, event)) throw lostAccess();
      }
    }
  } finally {
    live.close();
    leave();
  }
}

async function currentSeq(deps: ChatDeps, roomId: string): Promise<number> {
  const [room] = await deps.db
    .select({ lastSeq: schema.rooms.lastSeq })
    .from(schema.rooms)
    .where(eq(schema.rooms.id, roomId));
  if (!room) throw roomNotFound();
  return room.lastSeq;
}

/** Kicked, or no longer a member of a room that is (or became) private. */
async function accessEndedBy(deps: ChatDeps, caller: Caller, event: RoomEvent): Promise<boolean> {
  if (caller.role === "admin") return false;
  if (event.type === "member.left" && event.userId === caller.id) {
    if (event.kicked) return true;
    const [room] = await deps.db
      .select({ isPrivate: schema.rooms.isPrivate })
      .from(schema.rooms)
      .where(eq(schema.rooms.id, event.roomId));
    return room?.isPrivate ?? true;
  }
  if (event.type === "room.updated" && event.isPrivate) {
    return (await deps.membership.role(event.roomId, caller.id)) === null;
  }
  return false;
}

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
