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

export const localPresenceStore: PresenceStore = {
  async save() {},
  async load(_roomId, local) {
    return [local];
  },
};

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

/**
 * Who is online (holds a presence or events subscription) and who is typing, per room.
 * Ephemeral by design: kept in memory per instance, shared through the store, never in the
 * database; a change announces itself on the bus and subscribers take a fresh snapshot.
 */
export function createPresenceTracker(
  bus: EventBus,
  options: { typingMs?: number; store?: PresenceStore } = {},
) {
  const typingMs = options.typingMs ?? 5_000;
  const store = options.store ?? localPresenceStore;
  const rooms = new Map<
    string,
    {
      online: Map<string, { displayName: string; connections: number }>;
      typing: Map<string, { displayName: string; timer: NodeJS.Timeout }>;
    }
  >();

  function room(roomId: string) {
    let state = rooms.get(roomId);
    if (!state) {
      state = { online: new Map(), typing: new Map() };
      rooms.set(roomId, state);
    }
    return state;
  }

  function local(roomId: string): LocalPresence {
    const state = rooms.get(roomId);
    const list = (entries: Iterable<[string, { displayName: string }]>) =>
      [...entries].map(([userId, { displayName }]) => ({ userId, displayName }));
    return { online: list(state?.online ?? []), typing: list(state?.typing ?? []) };
  }

  async function changed(roomId: string) {
    const state = rooms.get(roomId);
    if (state && state.online.size === 0 && state.typing.size === 0) rooms.delete(roomId);
    await store.save(roomId, local(roomId));
    await bus.publish(presenceTopic(roomId), { roomId });
  }

  const heartbeat = setInterval(() => {
    for (const roomId of rooms.keys()) void store.save(roomId, local(roomId));
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    /** Everyone online or typing in the room, on every instance. */
    async snapshot(roomId: string): Promise<PresenceSnapshot> {
      const all = await store.load(roomId, local(roomId));
      const merge = (lists: PresenceUser[][]) => [
        ...new Map(lists.flat().map((u) => [u.userId, u])).values(),
      ];
      return { roomId, online: merge(all.map((p) => p.online)), typing: merge(all.map((p) => p.typing)) };
    },
    /** Marks the user online in the room until the returned function is called. */
    join(roomId: string, user: PresenceUser): () => void {
      const state = room(roomId);
      const entry = state.online.get(user.userId);
      if (entry) entry.connections++;
      else {
        state.online.set(user.userId, { displayName: user.displayName, connections: 1 });
        void changed(roomId);
      }
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const current = rooms.get(roomId)?.online.get(user.userId);
        if (!current) return;
        current.connections--;
        if (current.connections === 0) {
          rooms.get(roomId)?.online.delete(user.userId);
          void changed(roomId);
        }
      };
    },
    /** Marks the user typing for a few seconds; calling again extends it. */
    async typing(roomId: string, user: PresenceUser) {
      const state = room(roomId);
      const existing = state.typing.get(user.userId);
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        rooms.get(roomId)?.typing.delete(user.userId);
        void changed(roomId);
      }, typingMs);
      timer.unref();
      state.typing.set(user.userId, { displayName: user.displayName, timer });
      if (!existing) await changed(roomId);
    },
    close() {
      clearInterval(heartbeat);
      for (const state of rooms.values()) for (const { timer } of state.typing.values()) clearTimeout(timer);
      rooms.clear();
    },
  };
}
