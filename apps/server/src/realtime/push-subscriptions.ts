import { type Context, callPushSubscription, routerConfig, type TrackedSink } from "@parley/api";
import {
  type AnyTRPCRouter,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
  transformTRPCResponse,
} from "@trpc/server";
import { parseTRPCMessage, type TRPCClientOutgoingMessage, type TRPCRequestMessage } from "@trpc/server/rpc";
import type { Logger } from "pino";
import type { WebSocket as WsWebSocket } from "ws";
import { frameHeaderLength, textFrame, type GuardedSocket as WebSocket } from "./guarded-socket.ts";

const OPEN = 1; // WebSocket.OPEN

type RequestId = number | string;

/**
 * Distinct request ids one item's frames are kept for. Clients number their subscriptions alike
 * (wsLink counts from 1 on each connection), so a room's subscribers share a handful of prefixes.
 */
const MAX_FRAMES_PER_ITEM = 16;

/**
 * An item's first frame, kept while the item is (the room's window of 256 events, for resumes):
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

interface ActiveSubscription {
  /** Set once the stream is open; null while its checks and replay run. */
  stop: (() => void) | null;
  ended: boolean;
  /** Set once the stream is open: its end is logged (at debug) with how long it lived. */
  opened: { log: Logger; path: string; id: RequestId; at: number } | null;
}

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
  const bySocket = new WeakMap<WebSocket, Map<RequestId, ActiveSubscription>>();
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

  // One function for every socket (`this` is the socket): no closure per connection.
  function endAllOf(this: WsWebSocket) {
    const active = bySocket.get(this as WebSocket);
    for (const subscription of active?.values() ?? []) end(subscription, "socket closed");
    active?.clear();
  }

  function subscriptionsOf(socket: WebSocket) {
    let active = bySocket.get(socket);
    if (!active) {
      active = new Map();
      bySocket.set(socket, active);
      socket.on("close", endAllOf);
    }
    return active;
  }

  function end(subscription: ActiveSubscription, reason: string) {
    if (subscription.ended) return false;
    subscription.ended = true;
    subscription.stop?.();
    const opened = subscription.opened;
    if (opened) {
      const ms = Math.round(performance.now() - opened.at);
      opened.log.debug(
        { procedure: opened.path, subscriptionId: opened.id, reason, ms },
        "subscription ended",
      );
    }
    return true;
  }

  function sendJson(socket: WebSocket, message: unknown) {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(message));
  }

  function respondError(
    socket: WebSocket,
    request: { id: RequestId; jsonrpc?: "2.0"; path: string; input: unknown },
    ctx: Context | undefined,
    cause: unknown,
  ): TRPCError {
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
    const { id, jsonrpc } = message;
    if (id === null) return;
    const { path, lastEventId } = message.params;
    let input = message.params.input;
    // What tRPC's adapter does with wsLink's `lastEventId`.
    if (lastEventId !== undefined) {
      input =
        typeof input === "object" && input !== null ? { ...input, lastEventId } : (input ?? { lastEventId });
    }
    const request = { id, jsonrpc, path, input };
    const active = subscriptionsOf(socket);
    if (active.has(id)) {
      respondError(
        socket,
        request,
        undefined,
        new TRPCError({ code: "BAD_REQUEST", message: `Duplicate id ${id}` }),
      );
      return;
    }
    const subscription: ActiveSubscription = { stop: null, ended: false, opened: null };
    const startedAt = performance.now();
    active.set(id, subscription);

    // A string, not a Buffer: it keys the shared frames and costs an idle subscription less.
    const prefix = `{"id":${JSON.stringify(id)}${jsonrpc === "2.0" ? `,"jsonrpc":"2.0"` : ""}`;
    let started = false;
    const sendStarted = () => {
      if (started) return;
      started = true;
      sendJson(socket, { id, jsonrpc, result: { type: "started" } });
    };
    let ctx: Context | undefined;
    const sink: TrackedSink<unknown> = {
      push(trackedId, data) {
        if (subscription.ended) return;
        sendStarted();
        socket.sendFrame(frameOf(prefix, trackedId, data));
      },
      fail(error) {
        if (!end(subscription, "ended by the server")) return;
        active.delete(id);
        respondError(socket, request, ctx, error);
      },
    };

    // Refusals before the stream exists went through the procedure's middlewares, which report
    // them; once it exists, its opening (access checks, replay) is reported here.
    let streamReturned = false;
    try {
      // A failed context was already answered by tRPC's adapter, which closes the socket.
      ctx = await contextPromise.catch(() => undefined);
      if (!ctx || subscription.ended || socket.readyState !== OPEN) {
        active.delete(id);
        return;
      }
      const stream = await callPushSubscription(router, path, input, ctx);
      streamReturned = true;
      const stop = await stream.open(sink);
      if (subscription.ended) {
        // Stopped by the client, or the socket closed, while the stream was opening.
        stop();
        return;
      }
      subscription.stop = stop;
      const durationMs = performance.now() - startedAt;
      ctx.observer?.call({ transport: "ws", path, type: "subscription", error: null, durationMs, ctx });
      subscription.opened = { log: ctx.log, path, id, at: performance.now() };
      ctx.log.debug({ procedure: path, subscriptionId: id }, "subscription started");
      sendStarted();
    } catch (cause) {
      if (!end(subscription, "failed to open")) return;
      active.delete(id);
      const error = respondError(socket, request, ctx, cause);
      if (streamReturned && ctx) {
        const durationMs = performance.now() - startedAt;
        ctx.observer?.call({ transport: "ws", path, type: "subscription", error, durationMs, ctx });
      }
    }
  }

  function stop(socket: WebSocket, id: RequestId, jsonrpc: "2.0" | undefined) {
    const active = subscriptionsOf(socket);
    const subscription = active.get(id);
    if (!subscription) return;
    active.delete(id);
    if (end(subscription, "stopped by the client"))
      sendJson(socket, { id, jsonrpc, result: { type: "stopped" } });
  }

  function isOurs(raw: unknown, active: Map<RequestId, ActiveSubscription> | undefined): boolean {
    if (typeof raw !== "object" || raw === null) return false;
    const { id, method, params } = raw as { id?: unknown; method?: unknown; params?: { path?: unknown } };
    if (typeof id !== "number" && typeof id !== "string") return false;
    if (method === "subscription") return typeof params?.path === "string" && paths.has(params.path);
    return method === "subscription.stop" && (active?.has(id) ?? false);
  }

  return {
    /**
     * Takes the calls of a frame that are ours and returns what is left for tRPC's adapter:
     * the frame itself (nothing of ours), a smaller frame, or null (all of it was ours).
     */
    filter(socket: WebSocket, data: Buffer, isBinary: boolean): Buffer | null {
      if (isBinary) return data;
      const active = bySocket.get(socket);
      // A byte pre-check that cannot be bypassed: JSON can spell a string differently only with
      // escapes (`"chat\u002eevents"` is "chat.events"), so a frame with a backslash is parsed and
      // dispatched on what it says, like one that names a path of ours.
      const mayBeOurs =
        markers.some((marker) => data.includes(marker)) ||
        (active !== undefined && active.size > 0 && data.includes(STOP)) ||
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
        if (!isOurs(raw, active)) {
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
