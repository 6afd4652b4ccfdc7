// The domain (what is allowed and what happens) and the infrastructure it runs on (Redis, SMTP,
// argon2, lucia). No tRPC here: packages/api is the one transport layer over it.

// domain
export type { SessionUser } from "./domain/auth/session-user.ts";
export {
  type EventBus,
  publishUsersChanged,
} from "./domain/bus/event-bus.ts";
export {
  type EmailTemplate,
  escapeHtml,
  type RenderedEmail,
  renderEmail,
} from "./domain/email/email-templates.ts";
export { DomainError, type DomainErrorKind } from "./domain/errors.ts";
export { markPlainJson, plainJson } from "./domain/plain-json.ts";
export type { AttachmentDeps, UploadSettings } from "./domain/services/attachments-service.ts";
export * as attachmentsService from "./domain/services/attachments-service.ts";
export * as auditService from "./domain/services/audit-log.ts";
export {
  AUDIT_PURGE_BATCH,
  type AuditCaller,
  type AuditEntry,
  purgeAuditLog,
  recordAudit,
} from "./domain/services/audit-log.ts";
export * as authService from "./domain/services/auth-service.ts";
export * as blocksService from "./domain/services/blocks-service.ts";
export type { MentionEmailSettings } from "./domain/services/chat-deps.ts";
export type { DmMember } from "./domain/services/dms-service.ts";
export * as dmsService from "./domain/services/dms-service.ts";
export * as outboxService from "./domain/services/email-outbox.ts";
export {
  countJobsByStatus,
  DEFAULT_MAX_ATTEMPTS,
  enqueueEmail,
} from "./domain/services/email-outbox.ts";
export * as formsService from "./domain/services/forms-service.ts";
export { createHistoryPageCache, type HistoryPageCache } from "./domain/services/history-page-cache.ts";
export {
  createMembershipCache,
  type MembershipCache,
  type RoomRole,
} from "./domain/services/membership-cache.ts";
export * as mentionsService from "./domain/services/mentions-service.ts";
export * as messagesService from "./domain/services/messages-service.ts";
export {
  createModerationCache,
  type ModerationCache,
} from "./domain/services/moderation-cache.ts";
export * as moderationService from "./domain/services/moderation-service.ts";
export { streamPresence, typing } from "./domain/services/presence-streams.ts";
export {
  createPresenceTracker,
  createRedisPresenceStore,
  type PresenceSnapshot,
  type PresenceTracker,
} from "./domain/services/presence-tracker.ts";
export type { AttachmentView, MessageView, RoomEvent } from "./domain/services/room-events.ts";
export { createRoomFanout, type FanoutObserver, type RoomFanout } from "./domain/services/room-fanout.ts";
export type { LastMessage } from "./domain/services/room-summaries.ts";
export * as roomsService from "./domain/services/rooms-service.ts";
export { requireMember } from "./domain/services/rooms-service.ts";
export * as threadsService from "./domain/services/threads-service.ts";
export * as userAdminService from "./domain/services/user-admin-service.ts";
export { createAdmin, promoteToAdmin } from "./domain/services/user-admin-service.ts";
export * as userHandles from "./domain/services/user-handles.ts";
export * as webhooksService from "./domain/services/webhooks-service.ts";
export type { ConnectionState } from "./infra/auth/connection-state.ts";
export {
  createPasswordHasher,
  HasherBusyError,
  type HashKeys,
  type PasswordHasher,
} from "./infra/auth/password-hasher.ts";
export {
  createSessionModule,
  SESSION_COOKIE_NAME,
  type SessionInfo,
  type SessionModule,
  sessionDueAtMs,
  type ValidatedSession,
} from "./infra/auth/session-module.ts";
export {
  createSessionSockets,
  RIGHTS_CHANGED_CLOSE_CODE,
  SESSION_ENDED_CLOSE_CODE,
  type SessionSockets,
  TOO_MANY_SOCKETS_CLOSE_CODE,
} from "./infra/auth/session-sockets.ts";
export { createInProcessBus } from "./infra/bus/in-process-bus.ts";
// createRedisBus is @parley/core/redis-bus: a server without REDIS_URL never loads ioredis.
export {
  createEmailWorker,
  defaultEmailWorkerSettings,
  type EmailWorker,
  type EmailWorkerSettings,
  type PassResult,
} from "./infra/email/email-worker.ts";
export {
  createRecordingTransport,
  createSmtpTransport,
  type MailTransport,
  type OutgoingEmail,
  type RecordedEmail,
} from "./infra/email/mail-transport.ts";
export {
  consumePoint,
  createMemoryRateLimiters,
  createRedisRateLimiters,
  defaultRateLimits,
  LimitReachedError,
  RateLimitedError,
  type RateLimiters,
  type RateLimitName,
  type RateLimitRule,
  type RateLimitRules,
  retryAfterHeader,
} from "./infra/rate-limits.ts";
// infra
export type { BlobStore, StoredBlob } from "./infra/storage/blob-store.ts";
export { UnsupportedFileError } from "./infra/storage/file-inspection.ts";
export { createLocalDiskStore } from "./infra/storage/local-disk-store.ts";
export {
  type BlobStoreSettings,
  type OpenedBlobStore,
  openBlobStore,
} from "./infra/storage/open-blob-store.ts";
export type { S3Store } from "./infra/storage/s3-store.ts";
export { parseS3Url, type S3Location, S3UrlError } from "./infra/storage/s3-url.ts";
export {
  createWebhookAddresses,
  type HostResolver,
  isRefusedAddress,
  type WebhookAddresses,
} from "./infra/webhooks/webhook-addresses.ts";
export {
  createWebhookDeliverer,
  defaultWebhookDeliverySettings,
  type WebhookDeliverer,
  type WebhookDeliverySettings,
} from "./infra/webhooks/webhook-delivery.ts";
