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

export const presenceTopic = (roomId: string) => `presence:${roomId}`;

export type PresenceTracker = ReturnType<typeof createPresenceTracker>;

/**
 * Who is online (holds a presence or events subscription) and who is typing, per room.
 * Ephemeral by design: nothing is stored; a change publishes a fresh snapshot.
 */
export function createPresenceTracker(bus: EventBus, options: { typingMs: number } = { typingMs: 5_000 }) {
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

  function snapshot(roomId: string): PresenceSnapshot {
    const state = rooms.get(roomId);
    const list = (entries: Iterable<[string, { displayName: string }]>) =>
      [...entries].map(([userId, { displayName }]) => ({ userId, displayName }));
    return { roomId, online: list(state?.online ?? []), typing: list(state?.typing ?? []) };
  }

  function changed(roomId: string) {
    const state = rooms.get(roomId);
    if (state && state.online.size === 0 && state.typing.size === 0) rooms.delete(roomId);
    void bus.publish(presenceTopic(roomId), snapshot(roomId));
  }

  return {
    snapshot,
    /** Marks the user online in the room until the returned function is called. */
    join(roomId: string, user: PresenceUser): () => void {
      const state = room(roomId);
      const entry = state.online.get(user.userId);
      if (entry) entry.connections++;
      else state.online.set(user.userId, { displayName: user.displayName, connections: 1 });
      if (!entry) changed(roomId);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const current = rooms.get(roomId)?.online.get(user.userId);
        if (!current) return;
        current.connections--;
        if (current.connections === 0) {
          rooms.get(roomId)?.online.delete(user.userId);
          changed(roomId);
        }
      };
    },
    /** Marks the user typing for a few seconds; calling again extends it. */
    typing(roomId: string, user: PresenceUser) {
      const state = room(roomId);
      const existing = state.typing.get(user.userId);
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        rooms.get(roomId)?.typing.delete(user.userId);
        changed(roomId);
      }, options.typingMs);
      timer.unref();
      state.typing.set(user.userId, { displayName: user.displayName, timer });
      if (!existing) changed(roomId);
    },
    close() {
      for (const state of rooms.values()) for (const { timer } of state.typing.values()) clearTimeout(timer);
      rooms.clear();
    },
  };
}
