import type { ApiDeps, createHttpContextFactory } from "@parley/api";
import { retryAfterHeader } from "@parley/core";
import type { AnyRouter } from "@trpc/server";
import express, { type ErrorRequestHandler } from "express";
import {
  createOpenApiExpressMiddleware,
  generateOpenApiDocument,
  type OpenAPIObject,
  type OpenApiRouter,
} from "trpc-to-openapi";
import { noteErrorCode } from "./request-log.ts";

type SchemaOrReference = NonNullable<NonNullable<OpenAPIObject["components"]>["schemas"]>[string];

// What an error body holds besides message and code: the tRPC error data our error formatter
// builds, with the field errors a form shows next to its fields.
const errorData: SchemaOrReference = {
  type: "object",
  properties: {
    code: { type: "string" },
    httpStatus: { type: "integer" },
    requestId: { type: ["string", "null"] },
    retryAfterMs: {
      type: ["integer", "null"],
      description: "For TOO_MANY_REQUESTS: how long to wait before trying again",
    },
    zodError: {
      description: "For invalid input: the problems, keyed by input field",
      oneOf: [
        { type: "null" },
        {
          type: "object",
          properties: {
            formErrors: { type: "array", items: { type: "string" } },
            fieldErrors: {
              type: "object",
              additionalProperties: { type: "array", items: { type: "string" } },
            },
          },
          required: ["formErrors", "fieldErrors"],
        },
      ],
    },
  },
};

// For invalid input, zod's issues: each has a message, a path and more (code, expected, …).
const zodIssues: SchemaOrReference = {
  description: "For invalid input: zod's issues, each with the path of the field it concerns",
  type: "array",
  items: {
    type: "object",
    properties: {
      message: { type: "string" },
      code: { type: "string" },
      path: { type: "array", items: { type: ["string", "number"] } },
    },
    required: ["message"],
  },
};

/**
 * trpc-to-openapi documents error bodies as exactly {message, code, issues}; ours also carry
 * `data` (field errors, request id, retry hint) and zod's issues have more than a message, so
 * the document says so.
 */
function describeErrorBodies(document: OpenAPIObject): OpenAPIObject {
  const schemas = document.components?.schemas ?? {};
  for (const [name, schema] of Object.entries(schemas)) {
    if (!name.startsWith("error.") || "$ref" in schema) continue;
    const { additionalProperties: _closed, ...open } = schema;
    schemas[name] = { ...open, properties: { ...open.properties, issues: zodIssues, data: errorData } };
  }
  return document;
}

/**
 * trpc-to-openapi leaves `security` out of the doors anyone may call; the document says so
 * explicitly (`[]`: no authentication), as linters require of every operation.
 */
function declarePublicDoors(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of ["get", "post", "put", "patch", "delete"] as const) {
      const operation = item?.[method];
      if (operation && operation.security === undefined) operation.security = [];
    }
  }
  return document;
}

/** What a document says of itself, and where its doors are (relative to where it is served). */
export interface OpenApiDocumentInfo {
  description: string;
  baseUrl: string;
  version: string;
  /** Doors served beside the procedures' (the Server-Sent Events of /api/v1). */
  paths?: NonNullable<Parameters<typeof generateOpenApiDocument>[1]["paths"]>;
}

const formsDocument: OpenApiDocumentInfo = {
  description:
    "The lead forms over plain JSON for sites that do not use the TypeScript client. The same procedures as `forms.contact.submit` and `forms.demo.submit` over tRPC: same validation, same rate limits.",
  // Relative to where the document is served: right behind any proxy or host name.
  baseUrl: "/api",
  version: "1.0.0",
};

/** The OpenAPI 3.1 document of the procedures that carry `meta.openapi`, served under /api. */
export function createOpenApiDocument(
  router: AnyRouter,
  info: OpenApiDocumentInfo = formsDocument,
): OpenAPIObject {
  return declarePublicDoors(
    describeErrorBodies(
      generateOpenApiDocument(router as OpenApiRouter, {
        title: "Parley REST API",
        description: info.description,
        version: info.version,
        baseUrl: info.baseUrl,
        paths: info.paths,
      }),
    ),
  );
}

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
  // tests that enumerate the router fail in CI when a procedure cannot be described.
  let document: OpenAPIObject | undefined;
  const rest = express.Router();
  rest.get("/openapi.json", (_req, res) => {
    document ??= createOpenApiDocument(router, options.document);
    res.json(document);
  });
  // Parsed here rather than by trpc-to-openapi, which reads a body only when its content type is
  // exactly "application/json" (not with "; charset=utf-8").
  rest.use(express.json({ limit: options.maxBodyBytes }));
  // Made at the first request too: outside production trpc-to-openapi checks the whole router by
  // generating its document when the middleware is made (about 70 ms of a 700 ms cold start).
  let doors: ReturnType<typeof createDoors> | undefined;
  const createDoors = () =>
    createOpenApiExpressMiddleware({
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
  rest.use((req, res) => {
    doors ??= createDoors();
    return doors(req, res);
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
