import type { AppRouter, ParleyClient, RoomEvent } from "@parley/client";
import { reconnectDelayMs, TRPCClientError } from "@parley/client";
import { createConditionWaiter } from "./condition-waiter.ts";

export interface Collector<T> {
  items: T[];
  /** When each item arrived (Date.now()), index for index. */
  receivedAt: number[];
  lastId(): string | undefined;
  error(): TRPCClientError<AppRouter> | undefined;
  /** Resolves once the predicate holds (checked after every item, error and start). */
  until(predicate: () => boolean): Promise<void>;
  started(): Promise<void>;
  unsubscribe(): void;
}

function createCollector<T>() {
  const items: T[] = [];
  const receivedAt: number[] = [];
  const state = {
    lastId: undefined as string | undefined,
    error: undefined as TRPCClientError<AppRouter> | undefined,
    started: false,
  };
  const { notify, until } = createConditionWaiter();
  const add = (item: T) => {
    items.push(item);
    receivedAt.push(Date.now());
    notify();
  };
  return { items, receivedAt, state, notify, until, add };
}

export interface RoomEventsOptions {
  /**
   * Resubscribes from the last event id, after the client's own jittered backoff, when the
   * server ends the stream with SERVICE_UNAVAILABLE ("retry in a moment"), as a client that
   * keeps a room open must. Other errors still end the collection.
   */
  resumeWhenUnavailable?: boolean;
}

/** Subscribes to chat.events and records what arrives, tracked id included. */
export function collectRoomEvents(
  api: ParleyClient,
  roomId: string,
  lastEventId?: string,
  options: RoomEventsOptions = {},
): Collector<RoomEvent> & { resumes(): number } {
  const c = createCollector<RoomEvent>();
  let resumes = 0;
  let attempt = 0;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const subscribe = (from: string | undefined) =>
    api.chat.events.subscribe(
      { roomId, lastEventId: from },
      {
        onStarted: () => {
          c.state.started = true;
          c.notify();
        },
        onData: ({ id, data }) => {
          attempt = 0;
          c.state.lastId = id;
          c.add(data);
        },
        onError: (error) => {
          const typed = error instanceof TRPCClientError ? (error as TRPCClientError<AppRouter>) : undefined;
          if (options.resumeWhenUnavailable && typed?.data?.code === "SERVICE_UNAVAILABLE" && !stopped) {
            resumes++;
            retry = setTimeout(() => {
              subscription = subscribe(c.state.lastId ?? from);
            }, reconnectDelayMs(attempt++));
            return;
          }
          c.state.error = typed;
          c.notify();
        },
      },
    );
  let subscription = subscribe(lastEventId);
  return {
    items: c.items,
    receivedAt: c.receivedAt,
    lastId: () => c.state.lastId,
    error: () => c.state.error,
    until: c.until,
    started: () => c.until(() => c.state.started || c.state.error !== undefined),
    unsubscribe: () => {
      stopped = true;
      clearTimeout(retry);
      subscription.unsubscribe();
    },
    resumes: () => resumes,
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
      onData: (snapshot) => c.add(snapshot),
      onError: (error) => {
        c.state.error = error instanceof TRPCClientError ? error : undefined;
        c.notify();
      },
    },
  );
  return {
    items: c.items,
    receivedAt: c.receivedAt,
    lastId: () => undefined,
    error: () => c.state.error,
    until: c.until,
    started: () => c.until(() => c.state.started || c.state.error !== undefined),
    unsubscribe: () => subscription.unsubscribe(),
  };
}
