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

const mapErrors = t.middleware(async function mapErrors({ next }) {
  const result = await next();
  if (!result.ok) throw toApiError(result.error);
  return result;
});

/**
 * For subscriptions: caps how many one WebSocket may hold (one frame once opened 10,001), and
 * maps errors thrown while iterating, which no middleware sees, to the API's codes.
 */
const superviseSubscriptions = t.middleware(async function superviseSubscriptions({ ctx, type, next }) {
  if (type !== "subscription") return next();
  const connection = ctx.connection;
  if (connection && connection.activeSubscriptions >= ctx.limits.subscriptionsPerConnection) {
    const message = `At most ${ctx.limits.subscriptionsPerConnection} subscriptions per connection`;
    throw new TRPCError({
      code: "TOO_MANY_REQUESTS",
      message,
      cause: new LimitReachedError("subscriptionsPerConnection", message),
    });
  }
  if (connection) {
    connection.activeSubscriptions++;
    ctx.observer?.subscriptionsChanged(1);
  }
  const release = () => {
    if (!connection) return;
    connection.activeSubscriptions--;
    ctx.observer?.subscriptionsChanged(-1);
  };
  const result = await next();
  const iterable = result.ok ? result.data : undefined;
  if (result.ok && isPushStream(iterable)) {
    return { ...result, data: supervisePushStream(iterable, release, mapIterationError) };
  }
  if (!result.ok || !isAsyncIterable(iterable)) {
    release();
    return result;
  }
  async function* supervised() {
    try {
      yield* iterable as AsyncIterable<unknown>;
    } catch (error) {
      throw mapIterationError(error);
    } finally {
      release();
    }
  }
  return { ...result, data: supervised() };
});

function mapIterationError(error: unknown) {
  return toApiError(getTRPCErrorFromUnknown(error));
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/**
 * Notes the queries and mutations running on a WebSocket: a socket closed for a logout or a
 * change of rights answers them before it closes (auth/session-sockets.ts).
 */
const noteSocketCalls = t.middleware(async function noteSocketCalls({ ctx, type, next }) {
  const connection = ctx.connection;
  if (!connection || type === "subscription") return next();
  const call = next();
  connection.calls ??= new Set();
  connection.calls.add(call);
  try {
    return await call;
  } finally {
    connection.calls.delete(call);
  }
});

/**
 * Reports each call to the server's logs and metrics (outermost: it sees the API's error codes
 * and every check's refusal). A push stream's outcome is known only once it opens, which
 * push-subscriptions.ts reports itself.
 */
const observeCall = t.middleware(async function observeCall({ ctx, path, type, next }) {
  const observer = ctx.observer;
  if (!observer) return next();
  const startedAt = performance.now();
  const result = await next();
  if (result.ok && type === "subscription" && isPushStream(result.data)) return result;
  observer.call({
    transport: ctx.transport,
    path,
    type,
    error: result.ok ? null : result.error,
    durationMs: performance.now() - startedAt,
    ctx,
  });
  return result;
});

export const publicProcedure = t.procedure
  .use(observeCall)
  .use(noteSocketCalls)
  .use(mapErrors)
  .use(superviseSubscriptions)
  .meta({ access: "anyone" });

export const authedProcedure = publicProcedure
  .use(async function isAuthed({ ctx, next }) {
    if (!ctx.auth || ctx.connection?.revoked) {
      throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
    }
    return next({ ctx: { auth: ctx.auth, user: ctx.auth.user, session: ctx.auth.session } });
  })
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
