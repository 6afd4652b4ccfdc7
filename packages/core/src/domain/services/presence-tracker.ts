import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { EventBus } from "../bus/event-bus.ts";

export interface PresenceUser {
  userId: string;
  displayName: string;
}

export interface PresenceSnapshot {
  roomId: string;
  online: PresenceUser[];
  typing: PresenceUser[];
}

/** What one instance knows of one room: its own connections. */
interface LocalPresence {
  online: PresenceUser[];
  typing: PresenceUser[];
}

/** Where instances share their presence: nowhere (one instance) or Redis (several). */
export interface PresenceStore {
  save(roomId: string, presence: LocalPresence): Promise<void>;
  /** Every instance's presence in the room; `local` is this instance's. */
  load(roomId: string, local: LocalPresence): Promise<LocalPresence[]>;
}

export const presenceTopic = (roomId: string) => `presence:${roomId}`;

export type PresenceTracker = ReturnType<typeof createPresenceTracker>;

/** Keys expire unless refreshed, so an instance that dies drops out of presence by itself. */
const PRESENCE_TTL_SECONDS = 30;
const HEARTBEAT_MS = 10_000;

export function createRedisPresenceStore(redis: Redis, log: Logger): PresenceStore & { instanceId: string } {
  const instanceId = randomUUID();
  const instancesKey = (roomId: string) => `presence:${roomId}:instances`;
  const instanceKey = (roomId: string, id: string) => `presence:${roomId}:${id}`;
  return {
    instanceId,
    async save(roomId, presence) {
      try {
        if (presence.online.length === 0 && presence.typing.length === 0) {
          await redis
            .multi()
            .del(instanceKey(roomId, instanceId))
            .srem(instancesKey(roomId), instanceId)
            .exec();
          return;
        }
        await redis
          .multi()
          .set(instanceKey(roomId, instanceId), JSON.stringify(presence), "EX", PRESENCE_TTL_SECONDS)
          .sadd(instancesKey(roomId), instanceId)
          .expire(instancesKey(roomId), PRESENCE_TTL_SECONDS * 2)
          .exec();
      } catch (error) {
        log.warn({ err: error, roomId }, "could not share presence through redis");
      }
    },
    async load(roomId, local) {
      try {
        const ids = (await redis.smembers(instancesKey(roomId))).filter((id) => id !== instanceId);
        if (ids.length === 0) return [local];
        const values = await redis.mget(ids.map((id) => instanceKey(roomId, id)));
        const gone = ids.filter((_, i) => values[i] === null);
        if (gone.length > 0) await redis.srem(instancesKey(roomId), ...gone);
        return [local, ...values.flatMap((v) => (v ? [JSON.parse(v) as LocalPresence] : []))];
      } catch (error) {
        log.warn({ err: error, roomId }, "could not read shared presence: showing this instance's only");
        return [local];
      }
    },
  };
}

/** One room's presence on this instance. */
interface RoomPresence {
  online: Map<string, { displayName: string; connections: number }>;
  typing: Map<string, { displayName: string; timer: NodeJS.Timeout }>;
  /**
   * The lists as last built, until the next change: built when read, never per join or leave,
   * so a crowd of 5,000 opening or closing costs 5,000 map updates, not 5,000 lists of up to
   * 5,000 (1.3 s of the server's profile in the reconnect storm).
   */
  lists: LocalPresence | null;
}

/**
 * Who is online (holds a presence or events subscription) and who is typing, per room.
 * Ephemeral by design: kept in memory per instance, shared through the store (none: one
 * instance), never in the database; a change announces itself on the bus and subscribers take a
 * fresh snapshot. The changes of one turn of the event loop are announced (and shared) once.
 */
export function createPresenceTracker(
  bus: EventBus,
  options: { typingMs?: number; store?: PresenceStore } = {},
) {
  const typingMs = options.typingMs ?? 5_000;
  const store = options.store ?? null;
  const rooms = new Map<string, RoomPresence>();
  /** Rooms whose change is announced after this turn: the announcement each caller awaits. */
  const announcing = new Map<string, Promise<void>>();
  /** Entries copied into lists so far: what reads cost, counted (presence-tracker.test.ts). */
  let entriesListed = 0;

  function room(roomId: string) {
    let state = rooms.get(roomId);
    if (!state) {
      state = { online: new Map(), typing: new Map(), lists: null };
      rooms.set(roomId, state);
    }
    return state;
  }

  const list = (entries: Map<string, { displayName: string }>) => {
    entriesListed += entries.size;
    const users: PresenceUser[] = [];
    for (const [userId, { displayName }] of entries) users.push({ userId, displayName });
    return users;
  };

  /** This instance's lists, shared by every reader until the next change: never mutated. */
  function local(roomId: string): LocalPresence {
    const state = rooms.get(roomId);
    if (!state) return { online: [], typing: [] };
    state.lists ??= { online: list(state.online), typing: list(state.typing) };
    return state.lists;
  }

  function changed(roomId: string): Promise<void> {
    const state = rooms.get(roomId);
    if (state) state.lists = null;
    let announced = announcing.get(roomId);
    if (!announced) {
      announced = new Promise<void>((resolve) => setImmediate(resolve)).then(() => announce(roomId));
      announcing.set(roomId, announced);
    }
    return announced;
  }

  async function announce(roomId: string) {
    // A change from here on is announced again: this one may not see it.
    announcing.delete(roomId);
    const state = rooms.get(roomId);
    if (state && state.online.size === 0 && state.typing.size === 0) rooms.delete(roomId);
    if (store) await store.save(roomId, local(roomId));
    await bus.publish(presenceTopic(roomId), { roomId });
  }

  /**
   * One connection of the user is online in the room, until `leave` is called once for it: for a
   * caller that already knows whether it left (room-fanout.ts), without join's closure, which a
   * subscription would keep for its whole life on each of thousands of idle sockets.
   */
  function enter(roomId: string, user: PresenceUser) {
    const state = room(roomId);
    const entry = state.online.get(user.userId);
    if (entry) entry.connections++;
    else {
      state.online.set(user.userId, { displayName: user.displayName, connections: 1 });
      void changed(roomId);
    }
  }

  function leave(roomId: string, userId: string) {
    const current = rooms.get(roomId)?.online.get(userId);
    if (!current) return;
    current.connections--;
    if (current.connections === 0) {
      rooms.get(roomId)?.online.delete(userId);
      void changed(roomId);
    }
  }

  const heartbeat = setInterval(() => {
    if (store) for (const roomId of rooms.keys()) void store.save(roomId, local(roomId));
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    /** Everyone online or typing in the room, on every instance. Not to be mutated: shared. */
    async snapshot(roomId: string): Promise<PresenceSnapshot> {
      const mine = local(roomId);
      if (!store) return { roomId, online: mine.online, typing: mine.typing };
      const all = await store.load(roomId, mine);
      const merge = (lists: PresenceUser[][]) => [
        ...new Map(lists.flat().map((u) => [u.userId, u])).values(),
      ];
      return { roomId, online: merge(all.map((p) => p.online)), typing: merge(all.map((p) => p.typing)) };
    },
    /** Marks the user online in the room until the returned function is called. */
    join(roomId: string, user: PresenceUser): () => void {
      enter(roomId, user);
      const { userId } = user;
      let left = false;
      return () => {
        if (left) return;
        left = true;
        leave(roomId, userId);
      };
    },
    enter,
    leave,
    /** Marks the user typing for a few seconds; calling again extends it. */
    async typing(roomId: string, user: PresenceUser) {
      const state = room(roomId);
      const existing = state.typing.get(user.userId);
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        if (rooms.get(roomId)?.typing.delete(user.userId)) void changed(roomId);
      }, typingMs);
      timer.unref();
      state.typing.set(user.userId, { displayName: user.displayName, timer });
      if (!existing) await changed(roomId);
      // Extended: nothing to announce, but the name it carries is the newest.
      else state.lists = null;
    },
    /** Entries copied into presence lists since the start: the cost of reads, for tests. */
    entriesListed: () => entriesListed,
    close() {
      clearInterval(heartbeat);
      for (const state of rooms.values()) for (const { timer } of state.typing.values()) clearTimeout(timer);
      rooms.clear();
    },
  };
}
