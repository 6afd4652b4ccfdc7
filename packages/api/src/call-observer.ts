import type { FanoutObserver } from "@parley/core";
import type { TRPCError } from "@trpc/server";
import type { Context } from "./context.ts";

/** One procedure call as the server's logs and metrics see it. */
export interface ObservedCall {
  transport: Context["transport"];
  path: string;
  type: "query" | "mutation" | "subscription";
  /** Null when the call succeeded (a subscription: its stream opened). */
  error: TRPCError | null;
  durationMs: number;
  ctx: Context;
}

/**
 * What the API reports to whoever runs it (apps/server: its log lines and /metrics). Optional in
 * ApiDeps: tests and scripts that build deps by hand observe nothing. Called on hot paths:
 * implementations must not allocate per subscriber.
 */
export interface ApiObserver extends FanoutObserver {
  /** A query or mutation ended, or a subscription opened or was refused. */
  call(call: ObservedCall): void;
  /** Subscriptions open on this instance, +1 or -1 (any transport, any procedure). */
  subscriptionsChanged(delta: 1 | -1): void;
}
