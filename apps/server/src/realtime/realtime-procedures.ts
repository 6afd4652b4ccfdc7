import { type MutationPath, procedureEntries, type SubscriptionPath } from "@parley/api";
import type { AnyTRPCRouter } from "@trpc/server";

/**
 * The procedures that opted into the realtime path through their meta (`realtime` in
 * @parley/api's ProcedureMeta), by path. A meta that contradicts the procedure's kind (`push`
 * on a query) is refused when the server starts rather than ignored.
 */
export interface RealtimeProcedures<TRouter extends AnyTRPCRouter> {
  /** Subscriptions served by push-subscriptions.ts rather than tRPC's adapter. */
  push: ReadonlySet<SubscriptionPath<TRouter>>;
  /** Mutations @parley/client sends over the WebSocket with `realtimeSends` (its REALTIME_PATHS). */
  send: ReadonlySet<MutationPath<TRouter>>;
}

export function realtimeProcedures<TRouter extends AnyTRPCRouter>(
  router: TRouter,
): RealtimeProcedures<TRouter> {
  const push = new Set<string>();
  const send = new Set<string>();
  for (const { path, type, meta } of procedureEntries(router)) {
    if (meta.realtime?.push) {
      if (type !== "subscription")
        throw new Error(`${path}: realtime.push is for subscriptions, not a ${type}`);
      push.add(path);
    }
    if (meta.realtime?.send) {
      if (type !== "mutation") throw new Error(`${path}: realtime.send is for mutations, not a ${type}`);
      send.add(path);
    }
  }
  // Checked above against the procedures' kinds, which is what the path types encode.
  return {
    push: push as ReadonlySet<string> as ReadonlySet<SubscriptionPath<TRouter>>,
    send: send as ReadonlySet<string> as ReadonlySet<MutationPath<TRouter>>,
  };
}
