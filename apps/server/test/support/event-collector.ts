import type { AppRouter, ParleyClient, RoomEvent } from "@parley/client";
import { TRPCClientError } from "@parley/client";

export interface Collector<T> {
  items: T[];
  lastId(): string | undefined;
  error(): TRPCClientError<AppRouter> | undefined;
  /** Resolves once the predicate holds (checked after every item, error and start). */
  until(predicate: () => boolean): Promise<void>;
  started(): Promise<void>;
  unsubscribe(): void;
}

function createCollector<T>() {
  const items: T[] = [];
  const listeners = new Set<() => void>();
  const state = {
    lastId: undefined as string | undefined,
    error: undefined as TRPCClientError<AppRouter> | undefined,
    started: false,
  };
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  const until = (predicate: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (predicate()) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
    });
  return { items, state, notify, until };
}

/** Subscribes to chat.events and records what arrives, tracked id included. */
export function collectRoomEvents(
  api: ParleyClient,
  roomId: string,
  lastEventId?: string,
): Collector<RoomEvent> {
  const c = createCollector<RoomEvent>();
  const subscription = api.chat.events.subscribe(
    { roomId, lastEventId },
    {
      onStarted: () => {
        c.state.started = true;
        c.notify();
      },
      onData: ({ id, data }) => {
        c.state.lastId = id;
        c.items.push(data);
        c.notify();
      },
      onError: (error) => {
        c.state.error = error instanceof TRPCClientError ? error : undefined;
        c.notify();
      },
    },
  );
  return {
    items: c.items,
    lastId: () => c.state.lastId,
    error: () => c.state.error,
    until: c.until,
    started: () => c.until(() => c.state.started || c.state.error !== undefined),
    unsubscribe: () => subscription.unsubscribe(),
  };
}

type Snapshot = { online: { userId: string }[]; typing: { userId: string }[] };

/** Subscribes to chat.presence and records the snapshots. */
export function collectPresence(api: ParleyClient, roomId: string): Collector<Snapshot> {
  const c = createCollector<Snapshot>();
  const subscription = api.chat.presence.subscribe(
    { roomId },
    {
      onStarted: () => {
        c.state.started = true;
        c.notify();
      },
      onData: (snapshot) => {
        c.items.push(snapshot);
        c.notify();
      },
      onError: (error) => {
        c.state.error = error instanceof TRPCClientError ? error : undefined;
        c.notify();
      },
    },
  );
  return {
    items: c.items,
    lastId: () => undefined,
    error: () => c.state.error,
    until: c.until,
    started: () => c.until(() => c.state.started || c.state.error !== undefined),
    unsubscribe: () => subscription.unsubscribe(),
  };
}
