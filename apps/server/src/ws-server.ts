import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { ApiDeps, Context } from "@parley/api";
import { createWsContextFactory } from "@parley/api";
import type { SessionSockets, ValidatedSession } from "@parley/core";
import { SESSION_COOKIE_NAME, sessionDueAtMs } from "@parley/core";
import type { AnyRouter, TRPCError } from "@trpc/server";
import { type CreateWSSContextFnOptions, getWSConnectionHandler } from "@trpc/server/adapters/ws";
import { parseConnectionParamsFromUnknown, type TRPCRequestInfo } from "@trpc/server/http";
import { type WebSocket, WebSocketServer } from "ws";
import { type OriginPolicy, refusedOriginFields } from "./origin-policy.ts";
import { type GuardedSocket, guardedSocketClass } from "./realtime/guarded-socket.ts";
import { createPushSubscriptions } from "./realtime/push-subscriptions.ts";
import { realtimeProcedures } from "./realtime/realtime-procedures.ts";

const OPEN = 1; // WebSocket.OPEN

export interface WsServerOptions {
  server: Server;
  deps: ApiDeps;
  router: AnyRouter;
  sessionSockets: SessionSockets;
  originPolicy: OriginPolicy;
  path: string;
  maxPayloadBytes: number;
  maxBufferedBytes: number;
  maxBatchSize: number;
  heartbeatMs: number;
  /** Sessions end this long after they were created, however they are used (as over HTTP). */
  sessionAbsoluteMs: number;
  /** Upgrades another listener of the server answers (`pnpm dev`: Vite's HMR socket), left alone. */
  leaveUpgrade?: (req: IncomingMessage) => boolean;
}

/** `ws` marks the errors a peer's frames cause with a WS_ERR_ code (see ws/lib/receiver.js). */
function isClientProtocolError(cause: unknown): cause is Error {
  return cause instanceof Error && String((cause as { code?: unknown }).code).startsWith("WS_ERR_");
}

/**
 * Ticks per heartbeat interval, each taking its share of the sockets: one pass over all of them
 * would hold the event loop for every ping (and the pongs would follow in one burst), a stall
 * of tens of milliseconds at 5,000 sockets that every delivery in flight waits behind.
 */
const HEARTBEAT_SLICES = 10;

/**
 * Protocol-level pings on one timer for all sockets (browsers and `ws` answer them by
 * themselves); a socket that has not answered the previous ping is dropped. tRPC's keepAlive
 * would keep two timers and a listener per socket; the answer is noted by GuardedSocket itself.
 * The same pass hands on the sockets whose session may have run out: no timer per socket.
 * Each socket is visited once per interval, a slice of them per tick.
 */
function startHeartbeat(
  wss: WebSocketServer,
  intervalMs: number,
  clock: () => Date,
  onSessionDue: (ws: GuardedSocket) => void,
) {
  // A Set's iterator also visits sockets added after it was made: they join this round.
  let round: Iterator<GuardedSocket> | null = null;
  let perTick = 1;
  const timer = setInterval(() => {
    if (!round) {
      round = (wss.clients as Set<GuardedSocket>).values();
      perTick = Math.max(1, Math.ceil(wss.clients.size / HEARTBEAT_SLICES));
    }
    const now = clock().getTime();
    for (let n = 0; n < perTick; n++) {
      const next = round.next();
      if (next.done) {
        round = null;
        break;
      }
      const ws = next.value;
      if (!ws.answeredPing) {
        ws.terminate();
        continue;
      }
      if (ws.sessionDueAt <= now) {
        ws.sessionDueAt = Number.POSITIVE_INFINITY;
        onSessionDue(ws);
      }
      ws.answeredPing = false;
      ws.ping();
    }
  }, intervalMs / HEARTBEAT_SLICES);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * The parts of the upgrade request that tRPC's connection handler (its URL) and our context
 * (cookie, Origin, user agent, address) read. The whole IncomingMessage, with every header and its
 * stream state, is about a kilobyte; this summary is kept only until the context is built.
 */
function upgradeSummary(req: IncomingMessage): IncomingMessage {
  const { host, cookie, origin } = req.headers;
  return upgradeSummaryOf({
    method: req.method,
    url: req.url,
    headers: { host, cookie, origin, "user-agent": req.headers["user-agent"] },
    remoteAddress: req.socket.remoteAddress,
  });
}

function upgradeSummaryOf(parts: {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage["headers"];
  remoteAddress: string | undefined;
}): IncomingMessage {
  const summary = {
    method: parts.method,
    url: parts.url,
    headers: parts.headers,
    socket: { remoteAddress: parts.remoteAddress },
  };
  return summary as unknown as IncomingMessage;
}

/**
 * What tRPC's adapter passes createContext about a connection. Our context reads only the
 * connection params; the signal (tRPC's: aborted when the socket closes) is one that never aborts.
 */
const neverAborted = new AbortController().signal;
function connectionInfo(connectionParams: TRPCRequestInfo["connectionParams"]): TRPCRequestInfo {
  return {
    accept: null,
    type: "unknown",
    isBatchCall: false,
    calls: [],
    connectionParams,
    signal: neverAborted,
    url: null,
  };
}

/**
 * A connectionParams message as tRPC's adapter reads it (any JSON object; its `data` checked by
 * tRPC's own parser), or undefined for one it refuses: that one is left to the adapter to answer.
 */
function readConnectionParams(data: Buffer): TRPCRequestInfo["connectionParams"] | undefined {
  let message: unknown;
  try {
    message = JSON.parse(data.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null || Array.isArray(message)) return undefined;
  try {
    return parseConnectionParamsFromUnknown((message as { data?: unknown }).data);
  } catch {
    return undefined;
  }
}

function refuseUpgrade(socket: Duplex, status: number, reason: string) {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachWsServer(options: WsServerOptions) {
  const { deps, originPolicy } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    WebSocket: guardedSocketClass(
      options.maxBufferedBytes,
      () => deps.log.warn("closed a WebSocket whose client stopped reading"),
      {
        message: (ws, data, isBinary) => filterMessage(ws as GuardedSocket, data, isBinary),
        listenersNeeded,
        closed: (ws) => pushSubscriptions.closed(ws as GuardedSocket),
      },
    ),
  });

  options.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (options.leaveUpgrade?.(req)) return;
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== options.path) return refuseUpgrade(socket, 404, "Not Found");
    // Browsers send Origin on every WebSocket handshake and no CORS protects it: check it here.
    if (!originPolicy.admits(req, SESSION_COOKIE_NAME)) {
      deps.log.warn(
        { path, ip: req.socket.remoteAddress, ...refusedOriginFields(req.headers) },
        "cross-origin WebSocket refused",
      );
      return refuseUpgrade(socket, 403, "Forbidden");
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, upgradeSummary(req)));
  });

  const logInternal = (error: TRPCError, path: string | undefined) => {
    if (error.code !== "INTERNAL_SERVER_ERROR") return;
    // tRPC's adapter reports a socket's `error` event as an internal error, but `ws` raises it
    // for the client's protocol violations (a frame over maxPayload: it closes with 1009).
    if (isClientProtocolError(error.cause)) {
      deps.log.info({ reason: error.cause.message }, "closed a WebSocket that broke the protocol");
      return;
    }
    deps.log.error({ err: error.cause ?? error, path }, "ws procedure failed");
  };
  const createContext = createWsContextFactory(deps, options.sessionSockets);
  /**
   * Each socket's context: the promise while it is being built, then the context itself (a
   * settled promise kept for the socket's life is 48 bytes more on each idle socket).
   */
  const contexts = new WeakMap<WebSocket, Context | Promise<Context>>();
  const contextOf = (socket: WebSocket): Promise<Context> | undefined => {
    const context = contexts.get(socket);
    return context === undefined || context instanceof Promise ? context : Promise.resolve(context);
  };
  const pushSubscriptions = createPushSubscriptions({
    router: options.router,
    // The subscriptions whose meta opts in (`realtime: { push: true }`): chat.events.
    paths: realtimeProcedures(options.router).push,
    contextOf,
    maxBatchSize: options.maxBatchSize,
    onError: logInternal,
  });

  const dueAt = (auth: ValidatedSession) => sessionDueAtMs(auth.session, options.sessionAbsoluteMs);
  /**
   * A socket's session reached its idle expiry or its absolute lifetime: validated again by
   * the very rules HTTP applies (a session that HTTP refuses is deleted), its sockets end;
   * one that was used over HTTP meanwhile lives on, with its new expiry.
   */
  async function recheckSession(ws: GuardedSocket) {
    const auth = (await contextOf(ws)?.catch(() => undefined))?.auth;
    if (!auth) return;
    let still: ValidatedSession | null;
    try {
      still = await deps.sessions.validate(auth.session.id);
    } catch (error) {
      deps.log.warn(
        { err: error },
        "could not recheck a WebSocket's session; retrying at the next heartbeat",
      );
      ws.sessionDueAt = 0;
      return;
    }
    if (still) ws.sessionDueAt = dueAt(still);
    else options.sessionSockets.expire(auth.session.id);
  }

  function startContext(opts: CreateWSSContextFnOptions): Promise<Context> {
    const context = createContext(opts);
    contexts.set(opts.res, context);
    const socket = opts.res as GuardedSocket;
    context.then(
      (ctx) => {
        if (contexts.get(socket) === context) contexts.set(socket, ctx);
        if (ctx.auth && !ctx.connection?.revoked) socket.sessionDueAt = dueAt(ctx.auth);
      },
      // A context that failed is answered, reported and closed by tRPC's adapter, as always.
      () => attachTrpc(socket),
    );
    return context;
  }

  /**
   * tRPC's adapter keeps a dozen closures, a Map and an AbortController per connection (about
   * 2 KiB), for the life of the socket. A socket that only holds push subscriptions never needs
   * them: the adapter is attached to a socket at its first event the push path does not take
   * (any other call, a malformed frame, an error), and serves it from there exactly as if it had
   * been attached at the upgrade: the context is the one already built (or being built).
   */
  const trpcConnection = getWSConnectionHandler({
    wss,
    router: options.router,
    createContext: (opts) => contextOf(opts.res) ?? startContext(opts),
    maxBatchSize: options.maxBatchSize,
    onError({ error, path }) {
      logInternal(error, path);
    },
  });
  /** What tRPC's adapter reads of the request once the context exists: no connectionParams. */
  const contextBuilt = upgradeSummaryOf({
    method: "GET",
    url: options.path,
    headers: {},
    remoteAddress: undefined,
  });

  // Also on a closing socket: ws emits `error` after it starts closing, and an `error` event
  // without a listener would throw.
  function attachTrpc(socket: GuardedSocket) {
    if (socket.trpcAttached) return;
    socket.trpcAttached = true;
    const req = socket.upgrade ?? contextBuilt;
    socket.upgrade = null;
    try {
      trpcConnection(socket, req);
    } catch {
      // tRPC's adapter reads the upgrade's URL and Host first (createURL) and throws when they
      // make no URL: nothing on this socket can be served, so it is closed now rather than left
      // open until the heartbeat finds it.
      socket.close(1008, "Invalid URL");
    }
  }

  function listenersNeeded(ws: WebSocket) {
    attachTrpc(ws as GuardedSocket);
  }

  function filterMessage(socket: GuardedSocket, data: Buffer, isBinary: boolean): Buffer | null {
    if (socket.trpcAttached) return pushSubscriptions.filter(socket, data, isBinary);
    // tRPC's keep-alive, answered as its adapter does, at any time.
    if (!isBinary && data.length === 4) {
      const text = data.toString();
      if (text === "PONG") return null;
      if (text === "PING") {
        socket.send("PONG");
        return null;
      }
    }
    const upgrade = socket.upgrade;
    if (upgrade) {
      // The first message of a socket opened with `?connectionParams=1`: its connection params.
      const connectionParams = isBinary ? undefined : readConnectionParams(data);
      if (connectionParams === undefined) {
        attachTrpc(socket); // tRPC's adapter answers what is wrong with it
        return data;
      }
      socket.upgrade = null;
      startContext({ req: upgrade, res: socket, info: connectionInfo(connectionParams) });
      return null;
    }
    const rest = pushSubscriptions.filter(socket, data, isBinary);
    if (rest !== null) attachTrpc(socket);
    return rest;
  }

  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const socket = ws as GuardedSocket;
    // As tRPC's adapter: with `?connectionParams=1` the context waits for the first message.
    if (new URL(req.url ?? "/", "http://localhost").searchParams.get("connectionParams") === "1") {
      socket.upgrade = req;
    } else {
      startContext({ req, res: socket, info: connectionInfo(null) });
    }
  });

  const heartbeat = startHeartbeat(wss, options.heartbeatMs, deps.clock, (ws) => {
    recheckSession(ws).catch((error: unknown) => deps.log.error({ err: error }, "session recheck failed"));
  });

  return {
    wss,
    /** Tells every client to reconnect (to another instance), then closes the sockets. */
    async close(graceMs: number) {
      // What tRPC's adapter sends for broadcastReconnectNotification().
      const reconnect = JSON.stringify({ id: null, method: "reconnect" });
      for (const ws of wss.clients) if (ws.readyState === OPEN) ws.send(reconnect);
      const open = [...wss.clients];
      await Promise.race([
        Promise.all(
          open.map(
            (ws) =>
              new Promise<void>((resolve) => {
                ws.once("close", () => resolve());
                ws.close(1001, "Server shutting down");
              }),
          ),
        ),
        new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
      for (const ws of wss.clients) ws.terminate();
      heartbeat.stop();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
