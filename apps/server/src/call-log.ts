import type { ObservedCall } from "@parley/api";
import { LimitReachedError } from "@parley/core";

/**
 * The log lines of a procedure call: `info` for each call over the WebSocket (HTTP calls are
 * in their request's line, see request-log.ts), `warn` for each refused by a limit, on either
 * transport, naming the limit. Never the input or the result: they are the caller's data.
 */
export function logCall(call: ObservedCall) {
  const { ctx, error } = call;
  const userId = ctx.auth?.user.id;
  if (error?.code === "TOO_MANY_REQUESTS") {
    const limit = error.cause instanceof LimitReachedError ? error.cause.limit : "unknown";
    ctx.log.warn(
      { transport: call.transport, procedure: call.path, limit, userId, ip: ctx.ip },
      "too many requests: limit reached",
    );
  }
  if (call.transport !== "ws") return;
  const line = {
    method: "ws",
    procedure: call.path,
    type: call.type,
    code: error ? error.code : "OK",
    ms: Math.round(call.durationMs * 10) / 10,
    userId,
  };
  ctx.log.info(line, "call");
}
