import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  TRPCError,
  type TrackedEnvelope,
  tracked,
} from "@trpc/server";

/** Receives a push stream's items as they happen. Its functions are called plainly, not as methods. */
export interface TrackedSink<T> {
  /** The next item with its tracked id (what a client resumes from). */
  push(id: string, data: T): void;
  /** The stream ended on the server's side, with the reason; nothing follows. */
  fail(error: unknown): void;
}

const PUSH_STREAM = Symbol("parley.pushStream");

/**
 * A subscription's output that a transport may take by push instead of by pull. tRPC iterates
 * every subscription with one async generator per subscriber, so an event for 500 subscribers
 * wakes 500 generator chains; a push stream hands it to every subscriber in one synchronous
 * loop instead (the WebSocket server does this, see apps/server/src/realtime/push-subscriptions.ts).
 * It is still an AsyncIterable of `tracked()` items, so the procedure's type and any other
 * consumer (a server-side caller, a test) see an ordinary tRPC subscription.
 */
export interface PushStream<T> extends AsyncIterable<TrackedEnvelope<T>> {
  readonly [PUSH_STREAM]: true;
  /**
   * Runs the stream's checks, then pushes to `sink` (a replay may be pushed before this
   * resolves). Resolves with the function that stops the stream; rejects when a check fails.
   */
  open(sink: TrackedSink<T>): Promise<() => void>;
}

export function isPushStream(value: unknown): value is PushStream<unknown> {
  return typeof value === "object" && value !== null && PUSH_STREAM in value;
}

/**
 * Calls a subscription that returns a push stream as tRPC's adapters call it (its middleware,
 * input parsing and access checks all run), for the transports that take it by push: the
 * WebSocket's push path and the SSE door.
 */
export async function callPushSubscription(
  router: AnyTRPCRouter,
  path: string,
  input: unknown,
  ctx: unknown,
): Promise<PushStream<unknown>> {
  const stream = await callTRPCProcedure({
    router,
    path,
    getRawInput: async () => input,
    ctx,
    type: "subscription",
    signal: undefined,
    batchIndex: 0,
  });
  if (!isPushStream(stream)) {
    throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `${path} does not return a push stream` });
  }
  return stream;
}

/** Queue bound for pulling consumers that fall behind: they are failed rather than buffered forever. */
const MAX_PULL_BACKLOG = 10_000;

/**
 * A class, not an object literal: a literal's `[Symbol.asyncIterator]` method is a closure of its
 * own per stream, with its computed name built per stream too, and a WebSocket's subscription
 * keeps its stream for as long as it is open (about 250 bytes on each of thousands of idle
 * sockets; bench workload 4).
 */
class OpenablePushStream<T> implements PushStream<T> {
  readonly [PUSH_STREAM] = true as const;
  constructor(readonly open: (sink: TrackedSink<T>) => Promise<() => void>) {}

  // An iterator by hand, not an async generator: a generator waiting for the next item would
  // queue `return()` behind it, so a consumer that stops (tRPC's adapter on `subscription.stop`)
  // would hold the stream, and never hear back, until the room's next event.
  [Symbol.asyncIterator](): AsyncIterator<TrackedEnvelope<T>> {
    const open = this.open;
    const backlog: TrackedEnvelope<T>[] = [];
    let failure = null as { error: unknown } | null;
    let wake: (() => void) | null = null;
    let finished = false;
    let stop: (() => void) | null = null;
    let opening: Promise<void> | null = null;
    const finish = () => {
      if (finished) return;
      finished = true;
      stop?.();
      wake?.();
    };
    const opened = () =>
      (opening ??= open({
        push(id, data) {
          if (finished) return;
          if (backlog.length >= MAX_PULL_BACKLOG) {
            failure ??= { error: new Error("The subscriber fell too far behind") };
          } else {
            backlog.push(tracked(id, data));
          }
          wake?.();
        },
        fail(error) {
          failure ??= { error };
          wake?.();
        },
      }).then((stopStream) => {
        stop = stopStream;
        if (finished) stopStream(); // returned while it was opening
      }));
    const done = { done: true, value: undefined } as const;
    return {
      async next() {
        await opened();
        for (;;) {
          if (finished) return done;
          const item = backlog.shift();
          if (item) return { done: false, value: item };
          if (failure) {
            finish();
            throw failure.error;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      },
      async return() {
        finish();
        return done;
      },
    };
  }
}

export function pushStream<T>(open: (sink: TrackedSink<T>) => Promise<() => void>): PushStream<T> {
  return new OpenablePushStream(open);
}

/** The same stream, with `onEnd` called once however it ends and failures passed through `mapError`. */
export function supervisePushStream<T>(
  stream: PushStream<T>,
  onEnd: () => void,
  mapError: (error: unknown) => unknown,
): PushStream<T> {
  return pushStream<T>((sink) => openSupervised(stream, sink, onEnd, mapError));
}

/**
 * Its own function: the stop function it returns lives as long as the subscription, and keeps
 * only what this function's closures use (not `stream`, the procedure's own stream and its
 * closures, which are done with once it is open). `ended` is checked where it is set, not in a
 * closure of its own: one function object less on each of thousands of idle subscriptions.
 */
async function openSupervised<T>(
  stream: PushStream<T>,
  sink: TrackedSink<T>,
  onEnd: () => void,
  mapError: (error: unknown) => unknown,
): Promise<() => void> {
  let ended = false;
  let stop: () => void;
  try {
    stop = await stream.open({
      // The consumer's own function, not a wrapper: this runs per item per subscriber.
      push: sink.push,
      fail(error) {
        if (!ended) {
          ended = true;
          onEnd();
        }
        sink.fail(mapError(error));
      },
    });
  } catch (error) {
    if (!ended) {
      ended = true;
      onEnd();
    }
    throw mapError(error);
  }
  return () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
    stop();
  };
}
