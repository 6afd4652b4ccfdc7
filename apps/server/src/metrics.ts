import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiObserver, ObservedCall } from "@parley/api";
import { countJobsByStatus } from "@parley/core";
import { type DbHandle, schema } from "@parley/db";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { WebSocketServer } from "ws";

/**
 * Process metrics (CPU, memory, event-loop lag, GC) once per process, not per server: each
 * collectDefaultMetrics call starts its own event-loop monitor and GC observer that nothing
 * stops, and tests run many servers in one process. Not prom-client's global registry either:
 * each server's /metrics serves its own registry followed by this one.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

// Seconds; calls are mostly a few ms, a send or a login (argon2) tens to hundreds.
const CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** The first segment of a path, as a bounded label: anything else (the web app's files) is "other". */
const ROUTES = new Set(["/trpc", "/api", "/healthz", "/readyz", "/metrics", "/dev"]);

function routeOf(path: string): string {
  const slash = path.indexOf("/", 1);
  const first = slash < 0 ? path : path.slice(0, slash);
  return ROUTES.has(first) ? first : "other";
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;

/** One registry per server instance: its calls, sockets, fan-out, outbox and pool. */
export function createServerMetrics() {
  const registry = new Registry();
  const registers = [registry];

  const callDuration = new Histogram({
    name: "parley_rpc_duration_seconds",
    help: "tRPC calls by transport, procedure and outcome (OK or the tRPC error code); subscriptions until their stream opened",
    labelNames: ["transport", "procedure", "code"] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  const httpDuration = new Histogram({
    name: "parley_http_request_duration_seconds",
    help: "HTTP requests by method, route (first path segment) and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  const subscriptionsOpen = new Gauge({
    name: "parley_subscriptions_open",
    help: "Subscriptions open on this instance (all WebSockets, all procedures)",
    registers,
  });
  const eventsFannedOut = new Counter({
    name: "parley_events_fanned_out_total",
    help: "Live room events handed to their subscribers, once per event per room",
    registers,
  });
  const eventDeliveries = new Counter({
    name: "parley_event_deliveries_total",
    help: "Live room events written to subscribers (events times subscribers)",
    registers,
  });
  const deliverLag = new Histogram({
    name: "parley_message_deliver_lag_seconds",
    help: "From a message's created_at (database time) to its fan-out to this instance's subscribers, once per message per room",
    buckets: LAG_BUCKETS,
    registers,
  });

  const observer: ApiObserver = {
    call(call: ObservedCall) {
      const code = call.error ? call.error.code : "OK";
      callDuration.observe({ transport: call.transport, procedure: call.path, code }, call.durationMs / 1000);
    },
    subscriptionsChanged(delta) {
      subscriptionsOpen.inc(delta);
    },
    delivered(event, subscribers) {
      eventsFannedOut.inc();
      eventDeliveries.inc(subscribers);
      // Wall-clock time against the database's: both are the real time (tests' clocks do not
      // move created_at), and clock skew between the hosts shows here as a constant offset.
      if (event.type === "message.created") {
        deliverLag.observe(Math.max(0, Date.now() - Date.parse(event.message.createdAt)) / 1000);
      }
    },
  };

  return {
    registry,
    observer,
    /** For the request log's onFinished. */
    observeHttp(req: IncomingMessage, res: ServerResponse, path: string, durationMs: number) {
      const method = HTTP_METHODS.has(req.method ?? "") ? (req.method ?? "other") : "other";
      const status = String(res.statusCode);
      httpDuration.observe({ method, route: routeOf(path), status }, durationMs / 1000);
    },
    /** Gauges read at scrape time: nothing on the hot paths. */
    watch(options: { wss: WebSocketServer; db: DbHandle; log: Logger }) {
      const { wss, db, log } = options;
      new Gauge({
        name: "parley_websockets_open",
        help: "WebSockets open on this instance",
        registers,
        collect() {
          this.set(wss.clients.size);
        },
      });
      new Gauge({
        name: "parley_email_outbox_jobs",
        help: "Email outbox jobs by status (the whole outbox, shared by every instance)",
        labelNames: ["status"] as const,
        registers,
        async collect() {
          try {
            const counts = await countJobsByStatus(db);
            for (const status of schema.jobStatus.enumValues) this.set({ status }, counts.get(status) ?? 0);
          } catch (error) {
            // A scrape during a database outage still serves the other metrics.
            this.reset();
            log.debug({ err: error }, "metrics: could not count the email outbox");
          }
        },
      });
      new Gauge({
        name: "parley_database_info",
        help: "The database this instance uses (kind: postgres or pglite)",
        labelNames: ["kind"] as const,
        registers,
      }).set({ kind: db.kind }, 1);
      const pool = db.pool;
      if (pool) {
        const poolGauge = (name: string, help: string, read: () => number) =>
          new Gauge({
            name,
            help,
            registers,
            collect() {
              this.set(read());
            },
          });
        poolGauge(
          "parley_db_pool_connections",
          "PostgreSQL connections the pool holds",
          () => pool.totalCount,
        );
        poolGauge("parley_db_pool_idle", "PostgreSQL connections idle in the pool", () => pool.idleCount);
        poolGauge("parley_db_pool_waiting", "Queries waiting for a pool connection", () => pool.waitingCount);
        poolGauge("parley_db_pool_max", "The pool's connection limit", () => pool.options.max ?? 10);
      }
    },
    /** Prometheus text: this server's metrics, then the process's. */
    async render(): Promise<string> {
      const own = await registry.metrics();
      const process = await processMetrics().metrics();
      return `${own}\n${process}`;
    },
    contentType: registry.contentType,
  };
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Whether a peer address is this machine: IPv4 or IPv6 loopback, or IPv4 loopback mapped to IPv6. */
export function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

export interface MetricsRouteOptions {
  metrics: ServerMetrics;
  /** Required as a bearer token when set. */
  token: string | undefined;
  production: boolean;
  /** The app's own 404 (not `next()`: the web app answers unknown GETs with its index.html). */
  notFound: RequestHandler;
}

/**
 * GET /metrics. With a token: `Authorization: Bearer <token>` or 401. Without one: 404 in
 * production (not advertised), and in development only for this machine (loopback), so a
 * forgotten NODE_ENV does not publish the metrics to the network.
 */
export function metricsRoute(options: MetricsRouteOptions): RequestHandler {
  // Compared as digests: equal lengths for timingSafeEqual, and the length of the token is not leaked.
  const expected = options.token ? sha256(options.token) : null;
  return async function metrics(req, res, next) {
    if (!expected) {
      if (options.production || !isLoopback(req.socket.remoteAddress))
        return options.notFound(req, res, next);
    } else {
      const header = req.headers.authorization ?? "";
      const presented = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
      if (!timingSafeEqual(sha256(presented), expected)) {
        res.setHeader("www-authenticate", 'Bearer realm="metrics"');
        res.status(401).type("text/plain").send("Unauthorized\n");
        return;
      }
    }
    res.setHeader("content-type", options.metrics.contentType);
    res.setHeader("cache-control", "no-store");
    res.send(await options.metrics.render());
  };
}
