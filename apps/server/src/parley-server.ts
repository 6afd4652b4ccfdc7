import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiDeps, type ApiObserver, appRouter } from "@parley/api";
import {
  type BlobStore,
  createHistoryPageCache,
  createInProcessBus,
  createMembershipCache,
  createMemoryRateLimiters,
  createModerationCache,
  createPasswordHasher,
  createPresenceTracker,
  createRedisPresenceStore,
  createRedisRateLimiters,
  createRoomFanout,
  createSessionModule,
  createSessionSockets,
  openBlobStore,
} from "@parley/core";
import type { DbHandle } from "@parley/db";
import type { AnyRouter } from "@trpc/server";
import { type Logger, pino } from "pino";
import type { WebSocketServer } from "ws";
import { type AttachmentSweeper, startAttachmentSweeper } from "./attachment-sweeper.ts";
import { type AuditRetention, startAuditRetention } from "./audit-retention.ts";
import { logCall } from "./call-log.ts";
import { type ConfigOverrides, configWith } from "./config.ts";
import type { WebDevServer } from "./dev-web.ts";
import { type EmailDelivery, startEmailDelivery } from "./email-delivery.ts";
import { createHttpApp } from "./http-app.ts";
import { createServerMetrics } from "./metrics.ts";
import { openDatabase } from "./open-database.ts";
import { createOriginPolicy } from "./origin-policy.ts";
import { createRoomEventStreams } from "./room-events-sse.ts";
import { webhookAddressesFor } from "./webhook-addresses.ts";
import { attachWsServer } from "./ws-server.ts";

/** What only code passes: the rest of a server's options is its Config. */
export interface ServerRuntime {
  logger?: Logger;
  /** The time services and sessions go by; tests pass one they move. */
  clock?: () => Date;
  /** Replaces the app router: transport tests mount fixtures beside it. */
  router?: AnyRouter;
  /** Serves the web app instead of webDistDir (`pnpm dev`: Vite on this server, see dev-web.ts). */
  webDev?: (server: Server) => Promise<WebDevServer>;
  /** A PGlite template a new `dataDir` starts as a copy of (main.ts passes dist/pglite-template). */
  pgliteTemplate?: string;
  /** PGlite in memory instead of `dataDir`. */
  memoryDb?: boolean;
  /** Where attachments' bytes go; unset: files under `dataDir`/files. */
  blobStore?: BlobStore;
  /**
   * The database, already opening (openDatabase with role "server"): main.ts starts it before
   * this module loads, so that a new database's migrations run while Node compiles the server.
   */
  database?: Promise<DbHandle>;
  /**
   * When the pool's warm-up starts after listening (default POOL_WARMUP_DELAY_MS); `false`: never
   * (the test server's default: its servers live for seconds, and the warm-up cost each 0.7 s).
   */
  poolWarmupDelayMs?: number | false;
}

/**
 * The pool's warm-up (pool-warmup.ts) starts this long after the server listens, not at once: the
 * start's first requests (readiness probes, the first clients) then run on the connections the
 * migrations opened. Started at the listen, it took that connection and made the first /readyz
 * open one of its own: 797 ms from spawn to the first 200 against 676 without (medians of 8
 * interleaved starts on PostgreSQL, 2026-12-02).
 */
const POOL_WARMUP_DELAY_MS = 1_000;

/** The warm-up, `delayMs` from now; best effort, what fails is logged. `cancel` stops one not yet started. */
function schedulePoolWarmup(db: DbHandle, log: Logger, delayMs: number | false) {
  const warm = db.warm;
  // PGlite (one connection in this process, nothing to warm), or no warm-up asked for.
  if (!warm || delayMs === false) return { done: Promise.resolve(), cancel() {} };
  let cancel = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      cancel = () => {};
      warm()
        .then(
          (warmed) => {
            if (warmed.failed.length > 0)
              log.warn(warmed, "could not warm every hot statement on the database pool");
          },
          (error: unknown) => log.warn({ err: error }, "could not warm the database pool"),
        )
        .finally(resolve);
    }, delayMs);
    timer.unref();
    cancel = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, cancel: () => cancel() };
}

/**
 * A Config (main.ts passes the one loadConfig made) or any part of one (tests, the bench), the
 * rest filled by configWith from the schema's defaults; plus what only code passes.
 */
export type ParleyServerOptions = ConfigOverrides & ServerRuntime;

export interface ParleyServer {
  /** http://host:port, once listening. */
  url: string;
  port: number;
  deps: ApiDeps;
  db: DbHandle;
  /** The in-process email worker and its transport, or null when disabled. */
  email: EmailDelivery | null;
  /** The audit log's periodic purge (a no-op when retention is 0 days). */
  auditRetention: AuditRetention;
  /** The periodic removal of unsent uploads and of deleted messages' files. */
  attachmentSweeper: AttachmentSweeper;
  /** The WebSocket server: open sockets, for metrics and for tests that cut connections. */
  webSocketServer: WebSocketServer;
  /**
   * Settles once the database pool's warm-up after listening has ended (at once on PGlite, and on
   * close): for tests that count the statements a call sends, which the warm-up's would join.
   */
  poolWarmed: Promise<void>;
  close(): Promise<void>;
}

function isLocalOrigin(origin: string): boolean {
  return ["localhost", "127.0.0.1", "[::1]"].includes(new URL(origin).hostname);
}

/** Builds the whole service (database, migrations, HTTP and WebSocket on one port) and listens. */
export async function startParleyServer(options: ParleyServerOptions): Promise<ParleyServer> {
  const { logger, clock: givenClock, router: givenRouter, webDev: startWebDev, ...rest } = options;
  const { pgliteTemplate, memoryDb, blobStore, database, poolWarmupDelayMs, ...overrides } = rest;
  const config = configWith(overrides);
  const { limits, publicOrigin } = config;
  const log = logger ?? pino({ level: config.logLevel });
  const db = await (database ??
    openDatabase(config, {
      role: "server",
      log,
      pgliteTemplate,
      memory: memoryDb,
    }));

  // Imported only with Redis: ioredis is about 30 ms of every start's compile and evaluation.
  const redisBus = config.redisUrl
    ? (await import("@parley/core/redis-bus")).createRedisBus(config.redisUrl, log)
    : null;
  const bus = redisBus ?? createInProcessBus(log);
  const sessionSockets = createSessionSockets(bus, {
    maxPerUser: limits.wsConnectionsPerUser,
    db: db.db,
    onResyncError: (error) =>
      log.warn({ err: error }, "could not recheck open WebSockets after the bus reconnected"),
  });
  const clock = givenClock ?? (() => new Date());
  const membership = createMembershipCache(db.db, bus);
  const moderation = createModerationCache(db.db, bus);
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
  const mentionSecret = config.mentionEmails.secret ?? randomBytes(32).toString("base64url");
  if (!config.mentionEmails.secret) {
    log.warn(
      "MENTION_EMAIL_SECRET is not set: unsubscribe links in mention emails work only until this process restarts, and only on this instance",
    );
  }
  // S3 when S3_URL is set, else DATA_DIR/files; a test may hand in a store of its own.
  const blobs = blobStore
    ? { store: blobStore, description: "the store given to startParleyServer", close: () => {} }
    : await openBlobStore(config);
  log.info(`attachments: ${blobs.description}`);
  const mentionEmails = { windowMs: config.mentionEmails.windowMs, secret: mentionSecret, publicOrigin };
  const deps: ApiDeps = {
    db: db.db,
    bus,
    sessions: createSessionModule(db.db, {
      secureCookies: config.production,
      idleLifetimeMs: limits.sessionIdleMs,
      absoluteLifetimeMs: limits.sessionAbsoluteMs,
      now: clock,
    }),
    passwords: createPasswordHasher({
      concurrency: limits.concurrentHashes,
      maxQueue: limits.queuedHashes,
      maxPerKey: limits.hashesPerKey,
    }),
    // A child of the root logger, which logs the same: pino gives every child of a root logger a
    // formatters object of its own, and none to a child's child. Each request's and each
    // WebSocket's context is such a child; a socket's lives as long as the socket (48 bytes).
    log: log.child({}),
    clock,
    publicOrigin,
    mentionEmails,
    teamAddress: config.mail.teamAddress,
    limits: { subscriptionsPerConnection: limits.subscriptionsPerConnection },
    rateLimiters: redisBus
      ? createRedisRateLimiters(redisBus.redis, config.rateLimits)
      : createMemoryRateLimiters(config.rateLimits),
    membership,
    moderation,
    presence,
    webhookAddresses: webhookAddressesFor(config),
    uploads: {
      store: blobs.store,
      maxBytes: config.uploads.maxBytes,
      quotaBytes: config.uploads.quotaBytes,
      abandonMs: config.uploads.abandonMs,
    },
    roomFanout: createRoomFanout({ db: db.db, bus, membership, moderation, presence, clock, observer }),
    historyPages: createHistoryPageCache(),
    observer,
  };
  const router = givenRouter ?? appRouter;
  const originPolicy = createOriginPolicy(publicOrigin, config.allowedOrigins);
  // Development without SMTP: emails stay on the machine, browsable at /dev/mailbox. Only for a
  // site on this machine: a deployment left without NODE_ENV=production must not show anyone
  // the reset links of other people's accounts.
  const devMailbox = !config.production && !config.mail.smtpUrl && isLocalOrigin(publicOrigin);

  // Node's defaults (60 s / 300 s, checked every 30 s) let slow clients hold sockets open: slowloris.
  const server = createServer({ connectionsCheckingInterval: 1_000 });
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // Before the app: Vite's HMR socket is attached to the HTTP server it is made with.
  const webDev = startWebDev ? await startWebDev(server) : undefined;
  const roomEvents = createRoomEventStreams({
    deps,
    router,
    sessionSockets,
    keepAliveMs: limits.wsHeartbeatMs,
    maxBufferedBytes: limits.wsBufferedBytes,
    sessionAbsoluteMs: limits.sessionAbsoluteMs,
  });
  const app = createHttpApp({
    deps,
    roomEvents,
    router,
    originPolicy,
    maxBodyBytes: limits.bodyBytes,
    maxBatchSize: limits.batchSize,
    webDistDir: config.webDistDir,
    webDev: webDev?.handle,
    devMailbox,
    metrics,
    metricsToken: config.metricsToken,
    production: config.production,
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
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const poolWarmup = schedulePoolWarmup(db, log, poolWarmupDelayMs ?? POOL_WARMUP_DELAY_MS);
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const email = config.emailWorker.enabled
    ? startEmailDelivery({ db: db.db, log, config, devMailbox, clock })
    : null;
  const auditRetention = startAuditRetention({ db: db.db, log, clock, config });
  const attachmentSweeper = startAttachmentSweeper({ db: db.db, log, clock, uploads: deps.uploads, config });

  let closing: Promise<void> | undefined;
  async function close() {
    // Stop accepting, tell WebSocket clients to reconnect, drain HTTP, then release the database.
    const httpDrained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Their clients reconnect (elsewhere) with Last-Event-ID; left open they would hold the drain.
    roomEvents.close();
    await ws.close(limits.shutdownGraceMs);
    const drainTimer = setTimeout(() => server.closeAllConnections(), limits.shutdownGraceMs);
    await httpDrained;
    clearTimeout(drainTimer);
    // Before the database closes: the pass in flight finishes and records its outcomes.
    await email?.close();
    await auditRetention.close();
    await attachmentSweeper.close();
    blobs.close();
    sessionSockets.close();
    deps.membership.close();
    deps.moderation.close();
    deps.presence.close();
    await bus.close();
    await webDev?.close();
    // The warm-up holds pool clients; ending the pool under it would only fail its next connect.
    poolWarmup.cancel();
    await poolWarmup.done;
    await db.close();
  }

  return {
    url: `http://${host}:${port}`,
    port,
    deps,
    db,
    email,
    auditRetention,
    attachmentSweeper,
    webSocketServer: ws.wss,
    poolWarmed: poolWarmup.done,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
