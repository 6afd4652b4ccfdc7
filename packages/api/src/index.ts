import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./root.ts";

// What a typed client needs beside the router (packages/client re-exports them).
export type { MessageView, RoomEvent } from "@parley/core";
export { ACCESS_RULES, type Access, type CallerKind, type RoomVisibility } from "./access.ts";
export {
  type ApiDeps,
  type ApiObserver,
  type ConnectionState,
  type Context,
  createHttpContextFactory,
  createInnerContext,
  createWsContextFactory,
  type ObservedCall,
} from "./context.ts";
export { toApiError } from "./errors.ts";
export type { MutationPath, QueryPath, SubscriptionPath } from "./procedure-paths.ts";
export { callPushSubscription, isPushStream, type PushStream, type TrackedSink } from "./push-stream.ts";
export { type AppRouter, appRouter } from "./root.ts";
export { mergeRouters, type ProcedureMeta, publicProcedure, router as createRouter } from "./trpc.ts";
export { type ProcedureEntry, procedureEntries, routerConfig } from "./trpc-internals.ts";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export { type RestDoor, type RestMethod, restDoorOf, restDoors, withRestDoors } from "./rest-doors.ts";
