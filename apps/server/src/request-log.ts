import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "@parley/api";
import type { RequestHandler } from "express";
import type { Logger } from "pino";

/** What the request's log line says beyond its method and URL; filled in as the request runs. */
export interface RequestRecord {
  id: string;
  log: Logger;
  startedAt: number;
  /** The signed-in caller, once a procedure's context was made. */
  userId: string | null;
  /** The tRPC error codes of the request's calls that failed (a batch may have several). */
  codes: string[];
}

const records = new WeakMap<IncomingMessage, RequestRecord>();
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
/** Polled by load balancers and Prometheus every few seconds: at info they would drown the log. */
const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);
const MAX_LOGGED_PATH = 200;

export function requestRecordOf(req: IncomingMessage): RequestRecord | undefined {
  return records.get(req);
}

/** The procedures a tRPC URL names (`/trpc/a.b,c.d` → ["a.b", "c.d"]), or undefined for other paths. */
function proceduresOf(path: string): string[] | undefined {
  if (!path.startsWith("/trpc/")) return undefined;
  return path
    .slice("/trpc/".length)
    .split(",")
    .filter(Boolean)
    .map((name) => name.slice(0, 100));
}

export interface RequestLogOptions {
  log: Logger;
  /** Told when each response is done (or the client went away), for the request metrics. */
  onFinished?(req: IncomingMessage, res: ServerResponse, path: string, durationMs: number): void;
}

/**
 * One line per request when it ends: its id, method, path (never the query string: GET calls
 * carry their input there), the procedures it called, status, tRPC codes, duration, the
 * signed-in user and the client address. Never headers or bodies: they carry the session
 * (Authorization, Cookie, Set-Cookie) and the caller's data. Gives each request an id (an
 * incoming X-Request-Id if well-formed), returned in X-Request-Id and carried by the request's
 * child logger.
 */
export function requestLog(options: RequestLogOptions): RequestHandler {
  return function requestLog(req, res, next) {
    const incoming = req.headers["x-request-id"];
    const id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader("x-request-id", id);
    // Read by the API's context (the requestId in error bodies and in procedure logs).
    (req as IncomingMessage & { id?: string }).id = id;
    const record: RequestRecord = {
      id,
      log: options.log.child({ requestId: id }),
      startedAt: performance.now(),
      userId: null,
      codes: [],
    };
    records.set(req, record);
    res.once("close", () => {
      const durationMs = performance.now() - record.startedAt;
      const path = (req.originalUrl.split("?")[0] ?? "").slice(0, MAX_LOGGED_PATH);
      options.onFinished?.(req, res, path, durationMs);
      const status = res.statusCode;
      const line = {
        method: req.method,
        path,
        procedures: proceduresOf(path),
        status,
        codes: record.codes.length > 0 ? record.codes : undefined,
        ms: Math.round(durationMs * 10) / 10,
        userId: record.userId ?? undefined,
        ip: req.socket.remoteAddress,
        // The client went away before the response was complete.
        aborted: res.writableFinished ? undefined : true,
      };
      if (status >= 500) record.log.error(line, "request");
      else if (PROBES.has(path)) record.log.debug(line, "request");
      else record.log.info(line, "request");
    });
    next();
  };
}

/** Wraps a context factory: the request's log line names the signed-in caller. */
export function noteCaller<O extends { req: IncomingMessage }>(
  createContext: (opts: O) => Promise<Context>,
): (opts: O) => Promise<Context> {
  return async (opts) => {
    const ctx = await createContext(opts);
    const record = records.get(opts.req);
    if (record && ctx.auth) record.userId = ctx.auth.user.id;
    return ctx;
  };
}

/** For the adapters' onError: the request's line lists its failed calls' codes. */
export function noteErrorCode(req: IncomingMessage | undefined, code: string) {
  const record = req ? records.get(req) : undefined;
  if (record && record.codes.length < 50) record.codes.push(code);
}
