import type { ServerResponse } from "node:http";
import {
  type ApiDeps,
  type ConnectionState,
  type Context,
  callPushSubscription,
  createHttpContextFactory,
  routerConfig,
  type TrackedSink,
} from "@parley/api";
import {
  type RoomEvent,
  SESSION_ENDED_CLOSE_CODE,
  type SessionSockets,
  sessionDueAtMs,
  TOO_MANY_SOCKETS_CLOSE_CODE,
} from "@parley/core";
import { type AnyTRPCRouter, getTRPCErrorFromUnknown, getTRPCErrorShape, TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { RequestHandler } from "express";
import { noteCaller, noteErrorCode } from "./request-log.ts";
import { trpcRequestInfo } from "./trpc-request-info.ts";

/** The procedure whose stream this door serves: the same checks, replay and order as over the WebSocket. */
const EVENTS_PATH = "chat.events";

export interface RoomEventStreamsOptions {
  deps: ApiDeps;
  router: AnyTRPCRouter;
  /** Ends a stream on logout, password change or change of rights, and caps streams per user, as for WebSockets. */
  sessionSockets: SessionSockets;
  /** How often an idle stream gets a comment line, so that proxies and clients keep it open. */
  keepAliveMs: number;
  /** A reader that lets this much pile up unread is dropped (it resumes with Last-Event-ID). */
  maxBufferedBytes: number;
  /** A session's absolute lifetime: a stream outliving it (or its idle expiry) is checked again. */
  sessionAbsoluteMs: number;
}

export type RoomEventStreams = ReturnType<typeof createRoomEventStreams>;

/** The Server-Sent Events stream of one room: `GET /api/v1/rooms/{roomId}/events`. */
export const ROOM_EVENTS_SSE_PATH = "/rooms/:roomId/events";

/**
 * A room's events as Server-Sent Events, for clients without tRPC's WebSocket protocol. Each
 * stream is `chat.events` called through the router (same access rule, same input checks,
 * same room fan-out), so ordering, resume and access changes are decided in one place: the
 * fan-out's `open`. Each event is `id: <seq>` and its JSON; a client resumes with
 * `Last-Event-ID` (what EventSource sends on reconnect) or `?lastEventId=`.
 */
export function createRoomEventStreams(options: RoomEventStreamsOptions) {
  const { deps, router, sessionSockets } = options;
  const config = routerConfig(router);
  const createContext = noteCaller(createHttpContextFactory(deps));
  const open = new Set<() => void>();

  const errorBody = (error: TRPCError, ctx: Context | undefined, input: unknown) => {
    const shape = getTRPCErrorShape({ config, error, type: "subscription", path: EVENTS_PATH, input, ctx });
    // The REST doors' error shape (trpc-to-openapi's): the tRPC shape with the code as a word.
    return { ...shape, code: error.code };
  };

  const handler: RequestHandler = async (req, res) => {
    const roomId = req.params.roomId;
    const fromQuery = typeof req.query.lastEventId === "string" ? req.query.lastEventId : undefined;
    const lastEventId = req.get("last-event-id") ?? fromQuery;
    const input = { roomId, lastEventId: lastEventId === "" ? undefined : lastEventId };
    let ctx: Context | undefined;
    let streaming = false;
    let ended = false;
    let stop: (() => void) | null = null;
    let keepAlive: NodeJS.Timeout | null = null;
    let untrack: (() => void) | null = null;

    const startStreaming = () => {
      if (streaming || ended) return;
      streaming = true;
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache, no-transform",
        // Proxies that buffer responses (nginx) would hold the events back.
        "X-Accel-Buffering": "no",
      });
      // How long EventSource waits before reconnecting (with Last-Event-ID) after a drop.
      res.write("retry: 1000\n\n");
    };

    const end = (error: TRPCError | null) => {
      if (ended) return;
      if (error) {
        noteErrorCode(req, error.code);
        if (error.code === "INTERNAL_SERVER_ERROR") {
          (ctx?.log ?? deps.log).error({ err: error.cause ?? error, path: EVENTS_PATH }, "SSE stream failed");
        }
        if (!streaming && !res.headersSent) {
          res.status(getHTTPStatusCodeFromError(error)).json(errorBody(error, ctx, input));
        } else {
          // Why the stream ended, as its last event; EventSource's `error` listeners see it.
          res.write(`event: error\ndata: ${JSON.stringify(errorBody(error, ctx, input))}\n\n`);
        }
      }
      finish();
      if (!res.writableEnded) res.end();
    };

    const finish = () => {
      ended = true;
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = null;
      stop?.();
      stop = null;
      untrack?.();
      untrack = null;
      open.delete(shutDown);
    };
    const shutDown = () => end(null);
    open.add(shutDown);
    res.once("close", finish);

    const sink: TrackedSink<RoomEvent> = {
      push(id, event) {
        if (ended) return;
        startStreaming();
        res.write(`id: ${id}\ndata: ${JSON.stringify(event)}\n\n`);
        // Dropped rather than buffered without bound: the client resumes from the last id it read.
        if (res.writableLength > options.maxBufferedBytes) {
          deps.log.warn({ roomId }, "SSE reader fell too far behind: stream closed");
          finish();
          res.destroy();
        }
      },
      fail(error) {
        end(getTRPCErrorFromUnknown(error));
      },
    };

    const startedAt = performance.now();
    let streamReturned = false;
    // As the WebSocket path reports a push stream's opening: to the server's logs and metrics.
    const observe = (error: TRPCError | null) => {
      if (!ctx) return;
      const durationMs = performance.now() - startedAt;
      ctx.observer?.call({
        transport: "http",
        path: EVENTS_PATH,
        type: "subscription",
        error,
        durationMs,
        ctx,
      });
    };

    try {
      const connection: ConnectionState = { id: "", activeSubscriptions: 0, revoked: false, calls: null };
      // Tracked before the session is validated, as a WebSocket is: a logout or a change of
      // rights landing in between still ends this stream.
      const token =
        deps.sessions.readBearer(req.get("authorization")) ?? deps.sessions.readCookie(req.get("cookie"));
      const tracked = token ? sessionSockets.track(token, closableStream(res, end), connection) : null;
      untrack = tracked?.untrack ?? null;
      const base = await createContext({ req, res, info: trpcRequestInfo(req, "subscription") });
      connection.id = base.requestId;
      ctx = { ...base, connection };
      if (ctx.auth) tracked?.admit(ctx.auth.user);
      else {
        tracked?.untrack();
        untrack = null;
      }
      if (ended) return;
      const stream = await callPushSubscription(router, EVENTS_PATH, input, ctx);
      // Opened even when the client already left: opening and stopping is what releases the
      // subscription the procedure's middleware counted.
      streamReturned = true;
      const stopStream = await stream.open(sink as TrackedSink<unknown>);
      if (ended) {
        // The client left, or the stream failed, while it was opening.
        stopStream();
        return;
      }
      stop = stopStream;
      observe(null);
      startStreaming();
      const auth = ctx.auth;
      let dueAt = auth ? sessionDueAtMs(auth.session, options.sessionAbsoluteMs) : Number.POSITIVE_INFINITY;
      let checking = false;
      keepAlive = setInterval(() => {
        res.write(": keep-alive\n\n");
        // As the WebSocket heartbeat does: a session past its expiry is validated again by HTTP's
        // rules, and the stream ends with it (a stream must not outlive its session).
        if (!auth || checking || deps.clock().getTime() < dueAt) return;
        checking = true;
        deps.sessions.validate(auth.session.id).then(
          (still) => {
            checking = false;
            if (still) dueAt = sessionDueAtMs(still.session, options.sessionAbsoluteMs);
            else sessionSockets.expire(auth.session.id);
          },
          (error: unknown) => {
            checking = false;
            deps.log.warn(
              { err: error },
              "could not recheck an SSE stream's session; retrying at the next keep-alive",
            );
          },
        );
      }, options.keepAliveMs);
      keepAlive.unref();
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      // Refusals before the stream existed went through the procedure's middleware, which reports them.
      if (streamReturned) observe(error);
      end(error);
    }
  };

  return {
    handler,
    /** Open streams on this instance. */
    count: () => open.size,
    /** Ends every stream (shutdown): clients reconnect, to another instance, with Last-Event-ID. */
    close() {
      for (const shutDown of [...open]) shutDown();
    },
  };
}

/** What SessionSockets closes: the stream, told why as its last event. */
function closableStream(res: ServerResponse, end: (error: TRPCError | null) => void) {
  return {
    close(code?: number) {
      if (code === SESSION_ENDED_CLOSE_CODE)
        end(new TRPCError({ code: "UNAUTHORIZED", message: "Session ended" }));
      else if (code === TOO_MANY_SOCKETS_CLOSE_CODE) {
        end(new TRPCError({ code: "TOO_MANY_REQUESTS", message: "Too many open connections for this user" }));
      }
      // Rights changed: the client reconnects and is decided again with the new rights.
      else end(null);
    },
    once(_event: "close", listener: () => void) {
      res.once("close", listener);
    },
  };
}
