import {
  consumePoint,
  LimitReachedError,
  RateLimitedError,
  type RateLimitName,
  requireMember,
} from "@parley/core";
import { roomId } from "@parley/core/schemas";
import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { z } from "zod";
import type { Access, RoomAccess } from "./access.ts";
import type { Context } from "./context.ts";
import { asZodError, summarizeZodError, toApiError } from "./errors.ts";
import { isPushStream, supervisePushStream } from "./push-stream.ts";
import { wireTransformer } from "./wire-encoding.ts";

/** Read by the docs generator: who may call a procedure and what it does. */
export interface ProcedureMeta {
  /** Set by the builder (publicProcedure, authedProcedure, adminProcedure, memberProcedure, roomProcedure): see access.ts. */
  access?: Access;
  summary?: string;
  /** Also served as plain REST (trpc-to-openapi) and described in /api/openapi.json. */
  openapi?: OpenApiMeta["openapi"];
  /** Opt-ins to the WebSocket fast path; read by apps/server/src/realtime/realtime-procedures.ts. */
  realtime?: {
    /** A subscription that returns a PushStream: the server's push path serves it, not tRPC's adapter. */
    push?: true;
    /** A mutation that @parley/client's `realtimeSends` sends over the WebSocket (its REALTIME_PATHS). */
    send?: true;
  };
}

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    transformer: wireTransformer,
    // Subscriptions go over the WebSocket only, where connection limits apply.
    sse: { enabled: false },
    errorFormatter({ shape, error, ctx }) {
      const zodFailure = asZodError(error.cause);
      const zodError = zodFailure ? z.flattenError(zodFailure) : null;
      const internal = error.code === "INTERNAL_SERVER_ERROR";
      // Never a stack, SQL or driver message: internal errors are logged with the request id instead.
      const { stack: _stack, ...data } = shape.data;
      return {
        ...shape,
        message: internal
          ? "Internal server error"
          : zodFailure
            ? summarizeZodError(zodFailure)
            : isUndecodable(error)
              ? "Malformed input"
              : shape.message,
        data: {
          ...data,
          zodError,
          requestId: ctx?.requestId ?? null,
          // How long a rate-limited caller should wait before retrying.
          retryAfterMs: error.cause instanceof RateLimitedError ? error.cause.retryAfterMs : null,
        },
      };
    },
  });

/**
 * Input that could not even be decoded (JSON, superjson's `meta`, the shape of a WebSocket
 * frame): tRPC wraps what the parser threw and takes its message, which is a JS engine's or a
 * library's ("Maximum call stack size exceeded", "Cannot destructure property 'json'…") and
 * tells a caller about our internals, not about their input. Errors we raise carry messages of
 * their own, or a zod failure, and are left alone.
 */
function isUndecodable(error: TRPCError): boolean {
  if (error.code !== "BAD_REQUEST" && error.code !== "PARSE_ERROR") return false;
  const cause = error.cause;
  return cause instanceof Error && !(cause instanceof TRPCError) && error.message === cause.message;
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const mergeRouters = t.mergeRouters;

/**
 * Every call's boundary, as one level of tRPC's middleware chain: each level costs a copy of the
 * call's options, and these four rules used to be four levels (about a tenth of a send's server
 * CPU went to tRPC's copies). From the outside in:
 * - it reports each call to the server's logs and metrics: outermost, it sees the API's error
 *   codes and every check's refusal; a push stream's outcome is known only once it opens, which
 *   push-subscriptions.ts reports itself;
 * - it notes the queries and mutations running on a WebSocket: a socket closed for a logout or a
 *   change of rights answers them before it closes (auth/session-sockets.ts);
 * - it maps errors to the API's codes (errors.ts);
 * - for subscriptions, it caps how many one WebSocket may hold (one frame once opened 10,001),
 *   and maps errors thrown while iterating, which no middleware sees.
 */
const callBoundary = t.middleware(async function callBoundary({ ctx, path, type, next }) {
  const observer = ctx.observer;
  const startedAt = observer ? performance.now() : 0;
  const report = (error: TRPCError | null) =>
    observer?.call({
      transport: ctx.transport,
      path,
      type,
      error,
      durationMs: performance.now() - startedAt,
      ctx,
    });
  const connection = ctx.connection;
  let result: Awaited<ReturnType<typeof next>>;
  if (type === "subscription") {
    if (connection && connection.activeSubscriptions >= ctx.limits.subscriptionsPerConnection) {
      const message = `At most ${ctx.limits.subscriptionsPerConnection} subscriptions per connection`;
      const error = new TRPCError({
        code: "TOO_MANY_REQUESTS",
        message,
        cause: new LimitReachedError("subscriptionsPerConnection", message),
      });
      report(error);
      throw error;
    }
    if (connection) {
      connection.activeSubscriptions++;
      ctx.observer?.subscriptionsChanged(1);
    }
    const release = releaseOf(connection, ctx.observer);
    result = await next();
    const iterable = result.ok ? result.data : undefined;
    if (result.ok && isPushStream(iterable)) {
      return { ...result, data: supervisePushStream(iterable, release, mapIterationError) };
    }
    if (!result.ok || !isAsyncIterable(iterable)) {
      release();
    } else {
      async function* supervised() {
        try {
          yield* iterable as AsyncIterable<unknown>;
        } catch (error) {
          throw mapIterationError(error);
        } finally {
          release();
        }
      }
      result = { ...result, data: supervised() };
    }
  } else if (connection) {
    const call = next();
    connection.calls ??= new Set();
    connection.calls.add(call);
    try {
      result = await call;
    } finally {
      connection.calls.delete(call);
    }
  } else {
    result = await next();
  }
  if (!result.ok) {
    const error = toApiError(result.error);
    report(error);
    throw error;
  }
  report(null);
  return result;
});

/**
 * Gives back a subscription's place under the per-connection cap. Made outside the middleware: a
 * closure there would keep the middleware's whole scope (the call's context, path, report) for as
 * long as the subscription is open, on each of thousands of idle sockets.
 */
function releaseOf(connection: Context["connection"], observer: Context["observer"]): () => void {
  return () => {
    if (!connection) return;
    connection.activeSubscriptions--;
    observer?.subscriptionsChanged(-1);
  };
}

function mapIterationError(error: unknown) {
  return toApiError(getTRPCErrorFromUnknown(error));
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

export const publicProcedure = t.procedure.use(callBoundary).meta({ access: "anyone" });

/** What `isAuthed` guarantees of the context: the fields are set with `auth` (context.ts). */
interface SignedInContext {
  auth: NonNullable<Context["auth"]>;
  user: NonNullable<Context["user"]>;
  session: NonNullable<Context["session"]>;
}

export const authedProcedure = publicProcedure
  .use(
    // `next()` without a `ctx`: tRPC would copy the whole context (some 30 fields) into a new
    // object on every call; the context already holds `user` and `session` beside `auth`.
    t.middleware<SignedInContext>(async function isAuthed({ ctx, next }) {
      if (!ctx.auth || !ctx.user || !ctx.session || ctx.connection?.revoked) {
        throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
      }
      return next();
    }),
  )
  .meta({ access: "signed-in" });

export const adminProcedure = authedProcedure
  .use(async function isAdmin({ ctx, next }) {
    if (ctx.user.role !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "Admins only" });
    return next();
  })
  .meta({ access: "admin" });

/**
 * A call whose rule the domain service enforces where it commits (access.ts names the rules);
 * the meta says which, for the docs and the access test.
 */
export function roomProcedure(access: RoomAccess) {
  return authedProcedure.meta({ access });
}

/**
 * Calls about one room (`roomId` in the input) by one of its members. The service checks again
 * where it commits; this refuses early, with the service's own rule, before a rate limit.
 */
export const memberProcedure = roomProcedure("room-member")
  .input(z.object({ roomId }))
  .use(async function isRoomMember({ ctx, input, next }) {
    await requireMember(ctx, ctx.user, input.roomId);
    return next();
  });

/**
 * Takes a point from the named limiter for each key `keyOf` returns (a user id, an IP);
 * refuses with TOO_MANY_REQUESTS and a retry-after hint when any has none left.
 */
export function rateLimit(name: RateLimitName, keyOf: (ctx: Context) => string | string[]) {
  return t.middleware(async function rateLimited({ ctx, next }) {
    const keys = keyOf(ctx);
    await consumePoint(ctx.rateLimiters, name, ...(Array.isArray(keys) ? keys : [keys]));
    return next();
  });
}

/** Per signed-in user (the callers of these procedures always are); the address otherwise. */
export function perUser(ctx: Context): string {
  return ctx.auth ? `user:${ctx.auth.user.id}` : `ip:${ctx.ip ?? "unknown"}`;
}
