import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiDeps, type ApiObserver, appRouter } from "@parley/api";
import {
  createInProcessBus,
  createMembershipCache,
  createMemoryRateLimiters,
  createPasswordHasher,
  createPresenceTracker,
  createRedisBus,
  createRedisPresenceStore,
  createRedisRateLimiters,
  createRoomFanout,
  createSessionModule,
  createSessionSockets,
  defaultRateLimits,
  type RateLimitRules,
} from "@parley/core";
import { createDb, type DataDirShare, type DbHandle, migrate, shareDataDir } from "@parley/db";
import type { AnyRouter } from "@trpc/server";
import { type Logger, pino } from "pino";
import type { WebSocketServer } from "ws";
import { logCall } from "./call-log.ts";
import type { WebDevServer } from "./dev-web.ts";
import {
  defaultTeamAddress,
  type EmailDelivery,
  type EmailWorkerOptions,
  type MailOptions,
  startEmailDelivery,
} from "./email-delivery.ts";
import { createHttpApp } from "./http-app.ts";
import { createServerMetrics } from "./metrics.ts";
import { createOriginPolicy } from "./origin-policy.ts";
import { attachWsServer } from "./ws-server.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ParleyServerOptions {
  port: number;
  host: string;
  /** PostgreSQL; without it, PGlite in `dataDir` (or in memory with `memoryDb`). */
  databaseUrl?: string;
  /** Redis for the bus, rate limits and presence across instances; without it, all in process. */
  redisUrl?: string;
  dataDir?: string;
  /** A PGlite template a new `dataDir` starts as a copy of (main.ts passes dist/pglite-template). */
  pgliteTemplate?: string;
  memoryDb?: boolean;
  publicOrigin?: string;
  allowedOrigins?: string[];
  production?: boolean;
  logLevel?: string;
  logger?: Logger;
  limits?: Partial<ServerLimits>;
  rateLimits?: Partial<RateLimitRules>;
  /** The time services and sessions go by; tests pass one they move. */
  clock?: () => Date;
  /** Replaces the app router: transport tests mount fixtures beside it. */
  router?: AnyRouter;
  /** The built web app to serve beside the API (main.ts passes apps/web/dist). */
  webDistDir?: string;
  /** Serves the web app instead of webDistDir (`pnpm dev`: Vite on this server, see dev-web.ts). */
  webDev?: (server: Server) => Promise<WebDevServer>;
  /** Outgoing mail: SMTP with `smtpUrl`, else the recording transport; sender and team addresses. */
  mail?: MailOptions;
  /** The email worker of this process: on by default; `enabled: false` when `pnpm worker` runs apart. */
  emailWorker?: EmailWorkerOptions;
  /** Bearer token for GET /metrics; without it: 404 in production, this machine only otherwise. */
  metricsToken?: string;
}

export interface ServerLimits {
  bodyBytes: number;
  batchSize: number;
  wsPayloadBytes: number;
  wsBufferedBytes: number;
  subscriptionsPerConnection: number;
  /** WebSockets one user may hold open on one instance; more are closed with 4029. */
  wsConnectionsPerUser: number;
  /**
   * How often every WebSocket is pinged; one that missed the previous ping is dropped. The same
   * pass ends sockets whose session ran out, so they outlive it by at most this long.
   */
  wsHeartbeatMs: number;
  concurrentHashes: number;
  queuedHashes: number;
  /** Hashes running or waiting for one account or one client address: no one fills the queue. */
  hashesPerKey: number;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  shutdownGraceMs: number;
}

export const defaultLimits: ServerLimits = {
  // 1 MiB: room for a batch of long messages; a larger body is refused before it is read whole.
  bodyBytes: 1024 * 1024,
  batchSize: 50,
  wsPayloadBytes: 64 * 1024,
  // About a thousand typical events queued for one client before it counts as not reading.
  wsBufferedBytes: 1024 * 1024,
  subscriptionsPerConnection: 100,
  // A user with a few browsers, tabs and the CLI open; one that opened 300 was an attack.
  wsConnectionsPerUser: 20,
  wsHeartbeatMs: 30_000,
  concurrentHashes: 4,
  queuedHashes: 64,
  hashesPerKey: 4,
  sessionIdleMs: 14 * DAY_MS,
  sessionAbsoluteMs: 30 * DAY_MS,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  shutdownGraceMs: 5_000,
};

export interface ParleyServer {
  /** http://host:port, once listening. */
  url: string;
  port: number;
  deps: ApiDeps;
  db: DbHandle;
  /** The in-process email worker and its transport, or null when disabled. */
  email: EmailDelivery | null;
  /** The WebSocket server: open sockets, for metrics and for tests that cut connections. */
  webSocketServer: WebSocketServer;
  close(): Promise<void>;
}

function isLocalOrigin(origin: string): boolean {
  return ["localhost", "127.0.0.1", "[::1]"].includes(new URL(origin).hostname);
}

/** Builds the whole service (database, migrations, HTTP and WebSocket on one port) and listens. */
export async function startParleyServer(options: ParleyServerOptions): Promise<ParleyServer> {
  const limits = { ...defaultLimits, ...options.limits };
  const log = options.logger ?? pino({ level: options.logLevel ?? "info" });
  const db = await createDb({
    url: options.databaseUrl,
    dataDir: options.dataDir,
    pgliteTemplate: options.pgliteTemplate,
    memory: options.memoryDb,
    onPoolError: (error) => log.warn({ err: error }, "database connection lost; the pool will reconnect"),
  });
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  // The worker, admin:create, db:migrate and psql reach PGlite through this process while it runs.
  let share: DataDirShare | null = null;
  if (db.pglite && db.dataDir) {
    try {
      share = await shareDataDir(db.pglite, db.dataDir);
    } catch (error) {
      log.warn({ err: error }, "could not share the data directory: other processes cannot reach it");
    }
  }

  const redisBus = options.redisUrl ? createRedisBus(options.redisUrl, log) : null;
  const bus = redisBus ?? createInProcessBus(log);
  const rateLimitRules = { ...defaultRateLimits, ...options.rateLimits };
  const sessionSockets = createSessionSockets(bus, {
    maxPerUser: limits.wsConnectionsPerUser,
    db: db.db,
    onResyncError: (error) =>
      log.warn({ err: error }, "could not recheck open WebSockets after the bus reconnected"),
  });
  const publicOrigin = options.publicOrigin ?? `http://localhost:${options.port}`;
  const clock = options.clock ?? (() => new Date());
  const membership = createMembershipCache(db.db, bus);
  const metrics = createServerMetrics();
  const observer: ApiObserver = {
    call(call) {
      metrics.observer.call(call);
      logCall(call);
    },
    subscriptionsChanged: metrics.observer.subscriptionsChanged,
    delivered: metrics.observer.delivered,
  };
  const presence = createPresenceTracker(bus, {
    store: redisBus ? createRedisPresenceStore(redisBus.redis, log) : undefined,
  });
  const deps: ApiDeps = {
    db: db.db,
    bus,
    sessions: createSessionModule(db.db, {
      secureCookies: options.production ?? false,
      idleLifetimeMs: limits.sessionIdleMs,
      absoluteLifetimeMs: limits.sessionAbsoluteMs,
      now: clock,
    }),
    passwords: createPasswordHasher({
      concurrency: limits.concurrentHashes,
      maxQueue: limits.queuedHashes,
      maxPerKey: limits.hashesPerKey,
    }),
    log,
    clock,
    publicOrigin,
    teamAddress: options.mail?.teamAddress ?? defaultTeamAddress(publicOrigin),
    limits: { subscriptionsPerConnection: limits.subscriptionsPerConnection },
    rateLimiters: redisBus
      ? createRedisRateLimiters(redisBus.redis, rateLimitRules)
      : createMemoryRateLimiters(rateLimitRules),
    membership,
    presence,
    roomFanout: createRoomFanout({ db: db.db, bus, membership, presence, clock, observer }),
    observer,
  };
  const router = options.router ?? appRouter;
  const originPolicy = createOriginPolicy(publicOrigin, options.allowedOrigins ?? []);
  // Development without SMTP: emails stay on the machine, browsable at /dev/mailbox. Only for a
  // site on this machine: a deployment left without NODE_ENV=production must not show anyone
  // the reset links of other people's accounts.
  const devMailbox = !options.production && !options.mail?.smtpUrl && isLocalOrigin(publicOrigin);

  // Node's defaults (60 s / 300 s, checked every 30 s) let slow clients hold sockets open: slowloris.
  const server = createServer({ connectionsCheckingInterval: 1_000 });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // Before the app: Vite's HMR socket is attached to the HTTP server it is made with.
  const webDev = options.webDev ? await options.webDev(server) : undefined;
  const app = createHttpApp({
    deps,
    router,
    originPolicy,
    maxBodyBytes: limits.bodyBytes,
    maxBatchSize: limits.batchSize,
    webDistDir: options.webDistDir,
    webDev: webDev?.handle,
    devMailbox,
    metrics,
    metricsToken: options.metricsToken,
    production: options.production ?? false,
    isReady: async () => {
      try {
        await db.ping();
      } catch {
        return false;
      }
      return bus.ready();
    },
  });
  server.on("request", app);
  const ws = attachWsServer({
    server,
    deps,
    router,
    sessionSockets,
    originPolicy,
    path: "/trpc",
    maxPayloadBytes: limits.wsPayloadBytes,
    maxBufferedBytes: limits.wsBufferedBytes,
    maxBatchSize: limits.batchSize,
    heartbeatMs: limits.wsHeartbeatMs,
    sessionAbsoluteMs: limits.sessionAbsoluteMs,
    leaveUpgrade: webDev?.ownsUpgrade,
  });
  metrics.watch({ wss: ws.wss, db, log });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const email =
    options.emailWorker?.enabled === false
      ? null
      : startEmailDelivery({
          db: db.db,
          log,
          publicOrigin,
          mail: options.mail,
          worker: options.emailWorker,
          devMailbox,
        });

  let closing: Promise<void> | undefined;
  async function close() {
    // Stop accepting, tell WebSocket clients to reconnect, drain HTTP, then release the database.
    const httpDrained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await ws.close(limits.shutdownGraceMs);
    const drainTimer = setTimeout(() => server.closeAllConnections(), limits.shutdownGraceMs);
    await httpDrained;
    clearTimeout(drainTimer);
    // Before the database closes: the pass in flight finishes and records its outcomes.
    await email?.close();
    sessionSockets.close();
    deps.membership.close();
    deps.presence.close();
    await bus.close();
    await webDev?.close();
    await share?.close();
    await db.close();
  }

  return {
    url: `http://${host}:${port}`,
    port,
    deps,
    db,
    email,
    webSocketServer: ws.wss,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
