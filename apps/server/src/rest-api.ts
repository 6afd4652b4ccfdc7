import type { ApiDeps, createHttpContextFactory } from "@parley/api";
import { retryAfterHeader } from "@parley/core";
import type { AnyRouter } from "@trpc/server";
import express, { type ErrorRequestHandler } from "express";
import type { createOpenApiExpressMiddleware, OpenAPIObject, OpenApiRouter } from "trpc-to-openapi";
import type { OpenApiDocumentInfo } from "./openapi-document.ts";
import { noteErrorCode } from "./request-log.ts";

/**
 * `GET /openapi.json` and the REST doors of the procedures that have `meta.openapi`, through
 * the same router (middleware, validation, rate limits) as /trpc. Mount under /api.
 */
export interface RestApiOptions {
  deps: ApiDeps;
  router: AnyRouter;
  maxBodyBytes: number;
  /** The same context factory as /trpc's (it notes the caller for the request's log line). */
  createContext: ReturnType<typeof createHttpContextFactory>;
  /** The document's description and base; the forms' document (/api) without. */
  document?: OpenApiDocumentInfo;
}

export function createRestApi(options: RestApiOptions) {
  const { deps, router } = options;
  // Made at the first request, not at every start (a quarter second for the whole router): the
  // tests that enumerate the router fail in CI when a procedure cannot be described. The module
  // is imported then too: trpc-to-openapi brings zod-openapi, openapi3-ts, yaml and co-body (with
  // its own iconv-lite and mime-db), about 0.9 MB that a start would otherwise compile.
  let document: Promise<OpenAPIObject> | undefined;
  const rest = express.Router();
  rest.get("/openapi.json", async (_req, res) => {
    document ??= import("./openapi-document.ts").then((m) =>
      m.createOpenApiDocument(router, options.document),
    );
    res.json(await document);
  });
  // Parsed here rather than by trpc-to-openapi, which reads a body only when its content type is
  // exactly "application/json" (not with "; charset=utf-8").
  rest.use(express.json({ limit: options.maxBodyBytes }));
  // Made at the first request too: outside production trpc-to-openapi checks the whole router by
  // generating its document when the middleware is made (about 70 ms of a 700 ms cold start).
  let doors: Promise<ReturnType<typeof createOpenApiExpressMiddleware>> | undefined;
  const createDoors = async () => {
    const { createOpenApiExpressMiddleware } = await import("trpc-to-openapi");
    return createOpenApiExpressMiddleware({
      router: router as OpenApiRouter,
      createContext: options.createContext,
      maxBodySize: options.maxBodyBytes,
      responseMeta: ({ errors }) => ({ headers: retryAfterHeader(errors) }),
      onError({ error, path, ctx, req }) {
        noteErrorCode(req, error.code);
        const log = (ctx as { log?: ApiDeps["log"] } | undefined)?.log ?? deps.log;
        if (error.code === "INTERNAL_SERVER_ERROR") {
          log.error({ err: error.cause ?? error, path }, "REST procedure failed");
        } else log.debug({ code: error.code, path }, error.message);
      },
    });
  };
  rest.use(async (req, res) => {
    doors ??= createDoors();
    await (await doors)(req, res);
  });
  // Bodies express.json refused, in the same shape as the procedures' errors.
  const bodyErrors: ErrorRequestHandler = (error, _req, res, next) => {
    const status = (error as { status?: unknown }).status;
    if (status !== 400 && status !== 413) return next(error);
    const code = status === 413 ? "PAYLOAD_TOO_LARGE" : "PARSE_ERROR";
    const message = status === 413 ? "Request body too large" : "The body is not valid JSON";
    res.status(status).json({ message, code, data: { code, httpStatus: status } });
  };
  rest.use(bodyErrors);
  return rest;
}
