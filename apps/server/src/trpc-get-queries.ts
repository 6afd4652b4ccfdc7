import type { IncomingMessage, ServerResponse } from "node:http";
import { type Context, procedureEntries, routerConfig } from "@parley/api";
import { markPlainJson, plainJson } from "@parley/core";
import {
  type AnyTRPCRouter,
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
  transformTRPCResponse,
} from "@trpc/server";
import type { TRPCRequestInfo } from "@trpc/server/http";
import type { TRPCResponse } from "@trpc/server/rpc";
import type { RequestHandler } from "express";

export interface GetQueriesOptions {
  router: AnyTRPCRouter;
  createContext: (opts: {
    req: IncomingMessage;
    res: ServerResponse;
    info: TRPCRequestInfo;
  }) => Promise<Context>;
  /** The headers tRPC's `responseMeta` would add for these errors (Retry-After). */
  headersFor: (errors: TRPCError[]) => Record<string, string> | undefined;
  onError: (opts: { error: TRPCError; path: string; ctx: Context | undefined; req: IncomingMessage }) => void;
}

// Queries read nothing of the request's signal (only subscriptions do), so one that never aborts
// stands in for the per-request AbortController of tRPC's adapter.
const neverAborted = new AbortController().signal;

/**
 * One query over GET (`/trpc/<path>?input=…`, alone or as a batch of one), answered as tRPC's
 * resolveResponse answers it, byte for byte (`{"result":{"data":…}}` or `{"error":…}`, in an
 * array for a batch; the same status and headers), without its fetch adaptation: no `Request`,
 * `Headers`, `URL`, `AbortController`s or `Response` per call, and the body written once with its
 * length rather than piped through a web stream in chunks. That adaptation was about a quarter of
 * the server's CPU for a page of history. Anything else (batches of several, other parameters, a
 * content type, an unknown or non-query path, HEAD, POST) goes on to tRPC's own adapter.
 */
export function createGetQueries(options: GetQueriesOptions): RequestHandler {
  const { router, createContext, headersFor, onError } = options;
  const config = routerConfig(router);
  // Parley's transformer writes a plain value as `{ json: value }`; a router with another one
  // (a test's) has every result serialised through it.
  const probe = markPlainJson({});
  const plainAsIs = (config.transformer.output.serialize(probe) as { json?: unknown } | null)?.json === probe;
  const queries = new Set(
    procedureEntries(router)
      .filter((entry) => entry.type === "query")
      .map((entry) => entry.path),
  );

  return function getQuery(req, res, next) {
    if (req.method !== "GET" || req.headers["content-type"] !== undefined || req.headers["trpc-accept"]) {
      return next();
    }
    const url = req.url;
    const queryAt = url.indexOf("?");
    // Mounted at /trpc: the path is the procedure's, as the Express adapter reads it.
    const path = url.slice(1, queryAt === -1 ? undefined : queryAt);
    if (!queries.has(path)) return next();
    const params = new URLSearchParams(queryAt === -1 ? "" : url.slice(queryAt + 1));
    for (const name of params.keys()) if (name !== "input" && name !== "batch") return next();
    const batch = params.get("batch");
    // @parley/client's httpBatchLink sends even one query as a batch (`?batch=1`, one path).
    if (batch !== null && batch !== "1") return next();
    answer(req, res, path, params.get("input"), batch === "1").catch(next);
  };

  /** The call's input as tRPC's JSON handler reads it; what it throws is BAD_REQUEST with its message. */
  function readInput(rawInput: string | null, batch: boolean): unknown {
    try {
      if (!rawInput) return undefined;
      const parsed: unknown = JSON.parse(rawInput);
      if (!batch) return config.transformer.input.deserialize(parsed);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: '"input" needs to be an object when doing a batch call',
        });
      }
      const first = (parsed as Record<string, unknown>)[0];
      return first === undefined ? undefined : config.transformer.input.deserialize(first);
    } catch (cause) {
      if (cause instanceof TRPCError) throw cause;
      const message = cause instanceof Error ? cause.message : "Invalid input";
      throw new TRPCError({ code: "BAD_REQUEST", message, cause });
    }
  }

  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    rawInput: string | null,
    batch: boolean,
  ) {
    let input: unknown;
    let ctx: Context | undefined;
    let body: TRPCResponse | undefined;
    const errors: TRPCError[] = [];
    try {
      ctx = await createContext({ req, res, info: queryInfo });
    } catch (cause) {
      errors.push(getTRPCErrorFromUnknown(cause));
    }
    if (ctx) {
      try {
        const data = await callTRPCProcedure({
          router,
          path,
          getRawInput: async () => {
            input = readInput(rawInput, batch);
            return input;
          },
          ctx,
          type: "query",
          signal: undefined,
          batchIndex: 0,
        });
        if (isDataStream(data)) {
          const error = new TRPCError({
            code: "UNSUPPORTED_MEDIA_TYPE",
            message: "Cannot use stream-like response in non-streaming request - use httpBatchStreamLink",
          });
          // tRPC's adapter reports this one to onError for a single call, not in a batch.
          if (!batch) onError({ error, path, ctx, req });
          errors.push(error);
        } else body = { result: { data } };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        onError({ error, path, ctx, req });
        errors.push(error);
      }
    } else {
      onError({ error: errors[0] ?? new TRPCError({ code: "INTERNAL_SERVER_ERROR" }), path, ctx, req });
    }
    let status = 200;
    if (!body) {
      const failure = errors[0] ?? new TRPCError({ code: "INTERNAL_SERVER_ERROR" });
      const shape = getTRPCErrorShape({ config, error: failure, type: "query", path, input, ctx });
      status = typeof shape.data?.httpStatus === "number" ? shape.data.httpStatus : 500;
      body = { error: shape };
    }
    if (res.statusCode === 200) res.statusCode = status;
    res.setHeader("content-type", "application/json");
    for (const [name, value] of Object.entries(headersFor(errors) ?? {})) res.setHeader(name, value);
    res.setHeader("vary", "trpc-accept, accept");
    const data = "result" in body ? body.result.data : undefined;
    const json =
      plainAsIs && data !== null && typeof data === "object" && plainJson.has(data)
        ? resultOfPlain(data)
        : JSON.stringify(transformTRPCResponse(config, body));
    res.end(batch ? `[${json}]` : json);
  }
}

/**
 * Results whose data is plain JSON, as transformTRPCResponse and JSON.stringify write them
 * (`{"result":{"data":{"json":…}}}`: plain values are their own superjson form), kept beside the
 * value. Plain values are never mutated once made (markPlainJson), so a value served again (a
 * cached page of history) is written from the same bytes; the others die with their request.
 */
const plainResults = new WeakMap<object, string>();

function resultOfPlain(data: object): string {
  let json = plainResults.get(data);
  if (json === undefined) {
    json = `{"result":{"data":{"json":${JSON.stringify(data)}}}}`;
    plainResults.set(data, json);
  }
  return json;
}

// What tRPC passes the context factory beside the request; Parley's reads none of it.
const queryInfo: TRPCRequestInfo = {
  isBatchCall: false,
  accept: null,
  calls: [],
  type: "query",
  connectionParams: null,
  signal: neverAborted,
  url: null,
};

function isDataStream(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const streamLike = (v: unknown) =>
    typeof v === "object" &&
    v !== null &&
    (Symbol.asyncIterator in v || typeof (v as { then?: unknown }).then === "function");
  return streamLike(value) || Object.values(value).some(streamLike);
}
