import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "./root.ts";

export {
  createPasswordHasher,
  HasherBusyError,
  type HashKeys,
  type PasswordHasher,
} from "./auth/password-hasher.ts";
export {
  createSessionModule,
  SESSION_COOKIE_NAME,
  type SessionModule,
  type SessionUser,
  type ValidatedSession,
} from "./auth/session-module.ts";
export {
  createSessionSockets,
  RIGHTS_CHANGED_CLOSE_CODE,
  SESSION_ENDED_CLOSE_CODE,
  type SessionSockets,
  TOO_MANY_SOCKETS_CLOSE_CODE,
} from "./auth/session-sockets.ts";
export { type EventBus, publishUsersChanged } from "./bus/event-bus.ts";
export { createInProcessBus } from "./bus/in-process-bus.ts";
export { createRedisBus } from "./bus/redis-bus.ts";
export type { ApiObserver, ObservedCall } from "./call-observer.ts";
export {
  type ApiDeps,
  type Context,
  createHttpContextFactory,
  createInnerContext,
  createWsContextFactory,
} from "./context.ts";
export { type EmailTemplate, escapeHtml, type RenderedEmail, renderEmail } from "./email/email-templates.ts";
export {
  createEmailWorker,
  defaultEmailWorkerSettings,
  type EmailWorker,
  type EmailWorkerSettings,
  type PassResult,
} from "./email/email-worker.ts";
export {
  createRecordingTransport,
  createSmtpTransport,
  type MailTransport,
  type OutgoingEmail,
  type RecordedEmail,
} from "./email/mail-transport.ts";
export type { MutationPath, QueryPath, SubscriptionPath } from "./procedure-paths.ts";
export { isPushStream, type PushStream, type TrackedSink } from "./push-stream.ts";
export {
  createMemoryRateLimiters,
  createRedisRateLimiters,
  defaultRateLimits,
  LimitReachedError,
  type RateLimiters,
  type RateLimitName,
  type RateLimitRule,
  type RateLimitRules,
  retryAfterHeader,
} from "./rate-limits.ts";
export { type AppRouter, appRouter } from "./root.ts";
export { countJobsByStatus, DEFAULT_MAX_ATTEMPTS, enqueueEmail } from "./services/email-outbox.ts";
export { createMembershipCache, type MembershipCache } from "./services/membership-cache.ts";
export {
  createPresenceTracker,
  createRedisPresenceStore,
  type PresenceTracker,
} from "./services/presence-tracker.ts";
export type { MessageView, RoomEvent } from "./services/room-events.ts";
export { createRoomFanout, type RoomFanout } from "./services/room-fanout.ts";
export { createAdmin, promoteToAdmin } from "./services/user-admin-service.ts";
export { mergeRouters, type ProcedureMeta, publicProcedure, router as createRouter } from "./trpc.ts";
export { type ProcedureEntry, procedureEntries, routerConfig } from "./trpc-internals.ts";

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
