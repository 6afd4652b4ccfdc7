import type { IncomingMessage } from "node:http";
import type { ApiDeps, Context } from "@parley/api";
import { createHttpContextFactory } from "@parley/api";
import { retryAfterHeader, SESSION_COOKIE_NAME } from "@parley/core";
import type { AnyRouter, TRPCError } from "@trpc/server";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import cors from "cors";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import helmet from "helmet";
import { createAttachmentRoutes } from "./attachment-routes.ts";
import { DEV_MAILBOX_PATH, devMailbox } from "./dev-mailbox.ts";
import { metricsRoute, type ServerMetrics } from "./metrics.ts";
import { type OriginPolicy, refusedOriginFields } from "./origin-policy.ts";
import { noteCaller, noteErrorCode, requestLog, requestRecordOf } from "./request-log.ts";
import { createRestApi } from "./rest-api.ts";
import { createRestApiV1, REST_V1_BASE } from "./rest-v1.ts";
import type { RoomEventStreams } from "./room-events-sse.ts";
import { createGetQueries } from "./trpc-get-queries.ts";
import {
  confirmUnsubscribePage,
  UNSUBSCRIBE_MENTIONS_PATH,
  unsubscribeMentionsRoute,
} from "./unsubscribe-route.ts";
import { serveWebApp } from "./web-app.ts";

export interface HttpAppOptions {
  deps: ApiDeps;
  router: AnyRouter;
  originPolicy: OriginPolicy;
  maxBodyBytes: number;
  maxBatchSize: number;
  /** Resolves when the database (and later Redis) answer. */
  isReady: () => Promise<boolean>;
  /** The built web app (apps/web/dist) to serve from this origin; the API only without it. */
  webDistDir?: string;
  /** Serves the web app in place of webDistDir (`pnpm dev`: Vite's middlewares). */
  webDev?: RequestHandler;
  /** Serve the recorded emails at /dev/mailbox (development without SMTP only). */
  devMailbox?: boolean;
  metrics: ServerMetrics;
  /** The bearer token GET /metrics requires (see metricsRoute for what happens without). */
  metricsToken?: string;
  production: boolean;
  /** A room's events as Server-Sent Events under /api/v1. */
  roomEvents: RoomEventStreams;
}

interface TrpcErrorReport {
  error: TRPCError;
  path: string | undefined;
  ctx: Context | undefined;
  req: IncomingMessage;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function errorBody(code: string, httpStatus: number, message: string) {
  return { error: { message, code: -32600, data: { code, httpStatus } } };
}

const notFound: RequestHandler = (_req, res) => {
  res.status(404).json(errorBody("NOT_FOUND", 404, "Not found"));
};

/** Refuses cross-site state-changing requests (see OriginPolicy.admits). */
function checkOrigin(policy: OriginPolicy, deps: ApiDeps): RequestHandler {
  return function checkOrigin(req, res, next) {
    if (SAFE_METHODS.has(req.method) || policy.admits(req, SESSION_COOKIE_NAME)) return next();
    const log = requestRecordOf(req)?.log ?? deps.log;
    log.warn(
      { method: req.method, path: req.path, ...refusedOriginFields(req.headers) },
      "cross-origin request refused",
    );
    res.status(403).json(errorBody("FORBIDDEN", 403, "Cross-origin request refused"));
  };
}

/**
 * tRPC accepts multipart/form-data and other bodies for mutations: an HTML form on any site
 * could post one. Only JSON is taken, which a cross-site form cannot send without a preflight.
 */
const requireJson: RequestHandler = function requireJson(req, res, next) {
  if (req.method !== "POST" || req.is("application/json")) return next();
  res.status(415).json(errorBody("UNSUPPORTED_MEDIA_TYPE", 415, "Send the request body as application/json"));
};

export function createHttpApp(options: HttpAppOptions) {
  const { deps, originPolicy } = options;
  const app = express();
  app.disable("x-powered-by");
  app.use(requestLog({ log: deps.log, onFinished: options.metrics.observeHttp }));
  app.use(helmet());
  app.use(
    cors({
      origin: (origin, callback) => callback(null, origin !== undefined && originPolicy.allowed.has(origin)),
      credentials: true,
      maxAge: 600,
    }),
  );

  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.get("/readyz", async (_req, res) => {
    const ready = await options.isReady();
    res.status(ready ? 200 : 503).json({ ok: ready });
  });
  app.get(
    "/metrics",
    metricsRoute({
      metrics: options.metrics,
      token: options.metricsToken,
      production: options.production,
      notFound,
    }),
  );

  app.get(UNSUBSCRIBE_MENTIONS_PATH, confirmUnsubscribePage(deps));
  // The one state-changing route before the Origin check, and only this exact path: its token is
  // the authority, and RFC 8058's one-click POST comes from mail servers, without Origin.
  app.post(UNSUBSCRIBE_MENTIONS_PATH, unsubscribeMentionsRoute(deps));

  app.use(checkOrigin(originPolicy, deps));
  const createContext = noteCaller(createHttpContextFactory(deps));
  const onTrpcError = ({ error, path, ctx, req }: TrpcErrorReport) => {
    noteErrorCode(req, error.code);
    const log = ctx?.log ?? deps.log;
    if (error.code === "INTERNAL_SERVER_ERROR")
      log.error({ err: error.cause ?? error, path }, "procedure failed");
    else log.debug({ code: error.code, path }, error.message);
  };
  app.use(
    "/trpc",
    requireJson,
    createGetQueries({
      router: options.router,
      createContext,
      headersFor: retryAfterHeader,
      onError: onTrpcError,
    }),
    createExpressMiddleware({
      router: options.router,
      createContext,
      maxBodySize: options.maxBodyBytes,
      maxBatchSize: options.maxBatchSize,
      // A rate-limited call says when to come back, in the standard header as well as the body.
      responseMeta: ({ errors }) => ({ headers: retryAfterHeader(errors) }),
      onError: onTrpcError,
    }),
  );

  // Attachments' bytes, before the REST doors (whose JSON body parsing must not see them).
  app.use(REST_V1_BASE, createAttachmentRoutes({ deps }));

  // Every query and mutation over plain JSON, its OpenAPI document, and a room's events as SSE.
  app.use(
    REST_V1_BASE,
    createRestApiV1({
      deps,
      router: options.router,
      maxBodyBytes: options.maxBodyBytes,
      createContext,
      roomEvents: options.roomEvents,
    }),
  );

  // Plain JSON doors (and their OpenAPI document) for sites without the TypeScript client.
  // JSON only there too: trpc-to-openapi refuses other bodies with 415 in the REST error shape.
  app.use(
    "/api",
    createRestApi({ deps, router: options.router, maxBodyBytes: options.maxBodyBytes, createContext }),
  );

  if (options.devMailbox) app.use(DEV_MAILBOX_PATH, devMailbox(deps.db));
  if (options.webDev) app.use(options.webDev);
  else if (options.webDistDir) app.use(serveWebApp(options.webDistDir, deps.log));

  app.use(notFound);
  const handleError: ErrorRequestHandler = (error, req, res, _next) => {
    const status =
      typeof error?.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) (requestRecordOf(req)?.log ?? deps.log).error({ err: error }, "request failed");
    res
      .status(status)
      .json(
        errorBody(
          status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST",
          status,
          status === 500 ? "Internal server error" : String(error.message ?? "Bad request"),
        ),
      );
  };
  app.use(handleError);
  return app;
}
