import { type Context, callPushSubscription, routerConfig, type TrackedSink } from "@parley/api";
import {
  type AnyTRPCRouter,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
  transformTRPCResponse,
} from "@trpc/server";
import { parseTRPCMessage, type TRPCClientOutgoingMessage, type TRPCRequestMessage } from "@trpc/server/rpc";
import { frameHeaderLength, textFrame, type GuardedSocket as WebSocket } from "./guarded-socket.ts";

const OPEN = 1; // WebSocket.OPEN

type RequestId = number | string;

/**
 * Distinct request ids one item's frames are kept for. Clients number their subscriptions alike
 * (wsLink counts from 1 on each connection), so a room's subscribers share a handful of prefixes.
 */
const MAX_FRAMES_PER_ITEM = 16;

/**
 * An item's first frame, kept while the item is (the room's window of its newest events, for resumes):
 * the frame for every subscriber whose request id is spelt `prefix`, and the bytes after it for
 * the others. One allocation per item: a frame tail of its own beside each frame doubled the
 * array buffers the fan-out leaves for the GC (push-memory.test.ts). In memory of its own, not
 * a slice of Buffer's shared 8 KiB pool: a slice kept alive keeps its whole pool alive.
 */
interface FramedItem {
  frame: Buffer;
  prefix: string;
  /** Where the bytes after the request id start in `frame`. */
  tailStart: number;
}

/**
 * One push subscription: its state and its sink in one object, the functions of which close over
 * it alone. It lives as long as the subscription, on each of thousands of idle sockets: an async
 * function's variables captured by a sink's closures, a request object and a Map per socket cost
 * about 400 bytes more per subscription (ws-idle-sockets.test.ts, bench workload 4).
 */
interface ActiveSubscription extends TrackedSink<unknown> {
  readonly socket: WebSocket;
  readonly id: RequestId;
  readonly jsonrpc: "2.0" | undefined;
  readonly path: string;
  /** The frame's bytes before the result: `{"id":…` (and jsonrpc), which keys the shared frames. */
  readonly prefix: string;
  /** Set once the stream is open; null while its checks and replay run. */
  stop: (() => void) | null;
  ended: boolean;
  /** Whether `started` was sent: before the first item or once the stream is open. */
  started: boolean;
  /** Set once the context is built (an error's shape and the logs read it). */
  ctx: Context | undefined;
  /**
   * performance.now() in whole ms once the stream is open (its end is logged with how long it
   * lived); -1 before. Whole: a small integer is stored in the object, a fraction in a box of its own.
   */
  openedAt: number;
}

/** A socket's push subscriptions: the one it holds (the usual case), or several by request id. */
type SocketSubscriptions = ActiveSubscription | Map<RequestId, ActiveSubscription>;

export interface PushSubscriptionsOptions {
  router: AnyTRPCRouter;
  /** Subscription paths whose procedures return a PushStream (realtime-procedures.ts). */
  paths: ReadonlySet<string>;
  /** The socket's tRPC context, once tRPC's adapter has started creating it. */
  contextOf(socket: WebSocket): Promise<Context> | undefined;
  maxBatchSize: number;
  onError(error: TRPCError, path: string): void;
}

/**
 * Serves the subscriptions whose procedures return push streams (`chat.events`) on tRPC's
 * WebSocket, speaking tRPC's wire protocol, so wsLink clients see no difference. tRPC's adapter
 * wakes one async generator per subscriber per event and serialises the event once per
 * subscriber; here an event's frame tail is encoded once and written to every subscriber with
 * only the request id in front. Calls still go through the router (`callTRPCProcedure`), so the
 * procedure's middlewares (sign-in, the per-connection cap, input validation, error mapping)
 * apply unchanged. Every other frame, and every other call, is left to tRPC's adapter.
 */
export function createPushSubscriptions(options: PushSubscriptionsOptions) {
  const { router, paths } = options;
  const config = routerConfig(router);
  const bySocket = new WeakMap<WebSocket, SocketSubscriptions>();
  /** The paths' own strings: a subscription keeps one of these, not its frame's copy. */
  const pathStrings = new Map([...paths].map((path) => [path, path]));
  /** Per pushed item (kept while the room keeps it): its first frame (FramedItem). */
  const firstFrames = new WeakMap<object, FramedItem>();
  /**
   * The item being fanned out, framed whole once per request-id prefix: subscribers whose ids are
   * spelt alike are written the very same Buffer, so a delivery allocates and copies nothing
   * (measured at 5,000 subscribers: one event's loop 50 → 40 ms, the server's CPU per delivery
   * down by a sixth).
   * Only the current item's other frames are kept: a room's recent items stay in memory for
   * resumes, their frames need not. A room hands an item to all its subscribers in one
   * synchronous loop.
   */
  let framedItem: object | null = null;
  const frames = new Map<string, Buffer>();
  const markers = [...paths].map((path) => Buffer.from(`"${path}"`));
  const STOP = Buffer.from("subscription.stop");
  const BACKSLASH = 0x5c;

  function tailText(trackedId: string, data: unknown): string {
    const serialized = config.transformer.output.serialize({ id: trackedId, data });
    return `,"result":{"type":"data","id":${JSON.stringify(trackedId)},"data":${JSON.stringify(serialized)}}}`;
  }

  function frameOf(prefix: string, trackedId: string, data: unknown): Buffer {
    const key = typeof data === "object" && data !== null ? data : null;
    if (key === null) return textFrame(prefix, tailText(trackedId, data));
    const first = firstFrames.get(key);
    // The common case, and a crowd resuming from the window: one frame for every subscriber.
    if (first?.prefix === prefix) return first.frame;
    if (key !== framedItem) {
      frames.clear();
      framedItem = key;
    }
    let frame = frames.get(prefix);
    if (!frame) {
      if (first) frame = textFrame(prefix, first.frame.subarray(first.tailStart));
      else {
        frame = textFrame(prefix, tailText(trackedId, data));
        firstFrames.set(key, {
          frame,
          prefix,
          tailStart: frameHeaderLength(frame) + Buffer.byteLength(prefix),
        });
        return frame;
      }
      if (frames.size < MAX_FRAMES_PER_ITEM) frames.set(prefix, frame);
    }
    return frame;
  }

  function find(socket: WebSocket, id: RequestId): ActiveSubscription | undefined {
    const held = bySocket.get(socket);
    if (held instanceof Map) return held.get(id);
    return held?.id === id ? held : undefined;
  }

  function add(subscription: ActiveSubscription) {
    const { socket } = subscription;
    const held = bySocket.get(socket);
    if (held === undefined) bySocket.set(socket, subscription);
    else if (held instanceof Map) held.set(subscription.id, subscription);
    else
      bySocket.set(
        socket,
        new Map([
          [held.id, held],
          [subscription.id, subscription],
        ]),
      );
  }

  function remove(subscription: ActiveSubscription) {
    const { socket } = subscription;
    const held = bySocket.get(socket);
    if (held === subscription) bySocket.delete(socket);
    else if (held instanceof Map && held.get(subscription.id) === subscription) held.delete(subscription.id);
  }

  function holdsAny(socket: WebSocket): boolean {
    const held = bySocket.get(socket);
    return held instanceof Map ? held.size > 0 : held !== undefined;
  }

  function sendStarted(subscription: ActiveSubscription) {
    if (subscription.started) return;
    subscription.started = true;
    const { socket, id, jsonrpc } = subscription;
    sendJson(socket, { id, jsonrpc, result: { type: "started" } });
  }

  /** The subscription, made its own sink: `push` and `fail` are called plainly, not as methods. */
  function newSubscription(
    socket: WebSocket,
    message: TRPCRequestMessage,
    id: RequestId,
    path: string,
  ): ActiveSubscription {
    const { jsonrpc } = message;
    const subscription: ActiveSubscription = {
      socket,
      id,
      jsonrpc,
      path,
      // A string, not a Buffer: it keys the shared frames and costs an idle subscription less.
      prefix: `{"id":${JSON.stringify(id)}${jsonrpc === "2.0" ? `,"jsonrpc":"2.0"` : ""}`,
      stop: null,
      ended: false,
      started: false,
      ctx: undefined,
      openedAt: -1,
      push(trackedId, data) {
        if (subscription.ended) return;
        sendStarted(subscription);
        socket.sendFrame(frameOf(subscription.prefix, trackedId, data));
      },
      fail(error) {
        if (!end(subscription, "ended by the server")) return;
        remove(subscription);
        respondError(subscription, subscription.ctx, error);
      },
    };
    return subscription;
  }

  function end(subscription: ActiveSubscription, reason: string) {
    if (subscription.ended) return false;
    subscription.ended = true;
    subscription.stop?.();
    const { ctx, openedAt } = subscription;
    if (ctx && openedAt >= 0) {
      const ms = Math.round(performance.now() - openedAt);
      ctx.log.debug(
        { procedure: subscription.path, subscriptionId: subscription.id, reason, ms },
        "subscription ended",
      );
    }
    return true;
  }

  function sendJson(socket: WebSocket, message: unknown) {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(message));
  }

  /**
   * The error's shape as tRPC's adapter makes it. A stream that fails after it opened has no
   * input to give: the subscription does not keep it for its whole life only for this (the API's
   * error formatter does not read it, trpc.ts).
   */
  function respondError(
    request: { socket: WebSocket; id: RequestId; jsonrpc?: "2.0" | undefined; path: string; input?: unknown },
    ctx: Context | undefined,
    cause: unknown,
  ): TRPCError {
    const { socket } = request;
    const error = getTRPCErrorFromUnknown(cause);
    options.onError(error, request.path);
    const shape = getTRPCErrorShape({
      config,
      error,
      type: "subscription",
      path: request.path,
      input: request.input,
      ctx,
    });
    sendJson(
      socket,
      transformTRPCResponse(config, { id: request.id, jsonrpc: request.jsonrpc, error: shape }),
    );
    return error;
  }

  async function start(socket: WebSocket, message: TRPCRequestMessage, contextPromise: Promise<Context>) {
    const { id } = message;
    if (id === null) return;
    const { lastEventId } = message.params;
    const path = pathStrings.get(message.params.path) ?? message.params.path;
    let input = message.params.input;
    // What tRPC's adapter does with wsLink's `lastEventId`.
    if (lastEventId !== undefined) {
      input =
        typeof input === "object" && input !== null ? { ...input, lastEventId } : (input ?? { lastEventId });
    }
    if (find(socket, id)) {
      respondError(
        { socket, id, jsonrpc: message.jsonrpc, path, input },
        undefined,
        new TRPCError({ code: "BAD_REQUEST", message: `Duplicate id ${id}` }),
      );
      return;
    }
    const subscription = newSubscription(socket, message, id, path);
    const startedAt = performance.now();
    add(subscription);

    // Refusals before the stream exists went through the procedure's middlewares, which report
    // them; once it exists, its opening (access checks, replay) is reported here.
    let streamReturned = false;
    let ctx: Context | undefined;
    try {
      // A failed context was already answered by tRPC's adapter, which closes the socket.
      ctx = await contextPromise.catch(() => undefined);
      subscription.ctx = ctx;
      if (!ctx || subscription.ended || socket.readyState !== OPEN) {
        remove(subscription);
        return;
      }
      const stream = await callPushSubscription(router, path, input, ctx);
      streamReturned = true;
      const stop = await stream.open(subscription);
      if (subscription.ended) {
        // Stopped by the client, or the socket closed, while the stream was opening.
        stop();
        return;
      }
      subscription.stop = stop;
      const durationMs = performance.now() - startedAt;
      ctx.observer?.call({ transport: "ws", path, type: "subscription", error: null, durationMs, ctx });
      subscription.openedAt = Math.round(performance.now());
      ctx.log.debug({ procedure: path, subscriptionId: id }, "subscription started");
      sendStarted(subscription);
    } catch (cause) {
      if (!end(subscription, "failed to open")) return;
      remove(subscription);
      const error = respondError({ socket, id, jsonrpc: message.jsonrpc, path, input }, ctx, cause);
      if (streamReturned && ctx) {
        const durationMs = performance.now() - startedAt;
        ctx.observer?.call({ transport: "ws", path, type: "subscription", error, durationMs, ctx });
      }
    }
  }

  function stop(socket: WebSocket, id: RequestId, jsonrpc: "2.0" | undefined) {
    const subscription = find(socket, id);
    if (!subscription) return;
    remove(subscription);
    if (end(subscription, "stopped by the client"))
      sendJson(socket, { id, jsonrpc, result: { type: "stopped" } });
  }

  function isOurs(socket: WebSocket, raw: unknown): boolean {
    if (typeof raw !== "object" || raw === null) return false;
    const { id, method, params } = raw as { id?: unknown; method?: unknown; params?: { path?: unknown } };
    if (typeof id !== "number" && typeof id !== "string") return false;
    if (method === "subscription") return typeof params?.path === "string" && paths.has(params.path);
    return method === "subscription.stop" && find(socket, id) !== undefined;
  }

  return {
    /** The socket closed: ends its subscriptions (guarded-socket.ts calls this, not a listener). */
    closed(socket: WebSocket) {
      const held = bySocket.get(socket);
      if (held === undefined) return;
      bySocket.delete(socket);
      if (held instanceof Map) for (const subscription of held.values()) end(subscription, "socket closed");
      else end(held, "socket closed");
    },

    /**
     * Takes the calls of a frame that are ours and returns what is left for tRPC's adapter:
     * the frame itself (nothing of ours), a smaller frame, or null (all of it was ours).
     */
    filter(socket: WebSocket, data: Buffer, isBinary: boolean): Buffer | null {
      if (isBinary) return data;
      // A byte pre-check that cannot be bypassed: JSON can spell a string differently only with
      // escapes (`"chat\u002eevents"` is "chat.events"), so a frame with a backslash is parsed and
      // dispatched on what it says, like one that names a path of ours.
      const mayBeOurs =
        markers.some((marker) => data.includes(marker)) ||
        (holdsAny(socket) && data.includes(STOP)) ||
        data.includes(BACKSLASH);
      if (!mayBeOurs) return data;
      // Before the context exists tRPC expects the connectionParams message: leave it everything.
      const contextPromise = options.contextOf(socket);
      if (!contextPromise) return data;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString("utf8"));
      } catch {
        return data; // tRPC's adapter answers the parse error
      }
      const batch = Array.isArray(parsed) ? parsed : [parsed];
      if (Array.isArray(parsed) && batch.length > options.maxBatchSize) return data; // refused whole by tRPC
      const rest: unknown[] = [];
      for (const raw of batch) {
        if (!isOurs(socket, raw)) {
          rest.push(raw);
          continue;
        }
        let message: TRPCClientOutgoingMessage;
        try {
          message = parseTRPCMessage(raw, config.transformer);
        } catch {
          rest.push(raw); // malformed: tRPC's adapter answers it as it would anyway
          continue;
        }
        if (message.id === null) continue;
        if (message.method === "subscription.stop") stop(socket, message.id, message.jsonrpc);
        else if (message.method === "subscription") {
          const path = message.params.path;
          start(socket, message, contextPromise).catch((cause: unknown) =>
            options.onError(getTRPCErrorFromUnknown(cause), path),
          );
        }
      }
      if (rest.length === batch.length) return data;
      if (rest.length === 0) return null;
      return Buffer.from(JSON.stringify(Array.isArray(parsed) ? rest : rest[0]));
    },
  };
}
