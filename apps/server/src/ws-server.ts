import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { ApiDeps, SessionSockets } from "@parley/api";
import { createWsContextFactory, SESSION_COOKIE_NAME, wireEncoder } from "@parley/api";
import type { AnyRouter } from "@trpc/server";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import { WebSocketServer } from "ws";
import { guardedSocketClass } from "./guarded-socket.ts";
import type { OriginPolicy } from "./origin-policy.ts";

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
}

function refuseUpgrade(socket: Duplex, status: number, reason: string) {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachWsServer(options: WsServerOptions) {
  const { deps, originPolicy } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    WebSocket: guardedSocketClass(options.maxBufferedBytes, () =>
      deps.log.warn("closed a WebSocket whose client stopped reading"),
    ),
  });

  options.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== options.path) return refuseUpgrade(socket, 404, "Not Found");
    // Browsers send Origin on every WebSocket handshake and no CORS protects it: check it here.
    if (!originPolicy.admits(req, SESSION_COOKIE_NAME)) return refuseUpgrade(socket, 403, "Forbidden");
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  const handler = applyWSSHandler({
    wss,
    router: options.router,
    createContext: createWsContextFactory(deps, options.sessionSockets),
    maxBatchSize: options.maxBatchSize,
    // Room events are encoded once per room, not once per subscriber (see wire-encoding.ts).
    experimental_encoder: wireEncoder,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR")
        deps.log.error({ err: error.cause ?? error, path }, "ws procedure failed");
    },
  });

  return {
    wss,
    /** Tells every client to reconnect (to another instance), then closes the sockets. */
    async close(graceMs: number) {
      handler.broadcastReconnectNotification();
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
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
