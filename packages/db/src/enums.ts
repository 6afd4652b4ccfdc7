// The closed lists the database stores as enums, written once. schema.ts builds its pgEnums from
// them, packages/core its zod enums, the web app and the CLI their menus; enums.test.ts checks
// that a migrated database holds exactly these values. No imports: the web bundle includes this.

export const USER_ROLES = ["user", "admin"] as const;
export const ROOM_ROLES = ["owner", "moderator", "member"] as const;
/** The public forms: one per kind, each with its own input schema and procedure. */
export const FORM_KINDS = ["contact", "demo"] as const;
export const SUBMISSION_STATUSES = ["new", "contacted", "qualified", "closed"] as const;
export const JOB_STATUSES = ["pending", "sending", "sent", "dead"] as const;
/** What an outbox job delivers: an email, or a signed POST to a registered webhook. */
export const OUTBOX_KINDS = ["email", "webhook"] as const;
/**
 * An attachment's life: `pending` (asked for, bytes not yet received), `stored` (bytes checked and
 * stored; on a message once `message_id` is set), `deleted` (its message was deleted: the sweeper
 * removes the blobs, then the row).
 */
export const ATTACHMENT_STATUSES = ["pending", "stored", "deleted"] as const;
/** A room is a named room or a direct-message conversation (private, fixed members, no owner's settings). */
export const ROOM_KINDS = ["room", "dm"] as const;
/** Per-room sanctions: a muted member reads but cannot post; a banned user is removed and cannot rejoin. */
export const RESTRICTION_KINDS = ["mute", "ban"] as const;
export const REPORT_STATUSES = ["open", "resolved", "dismissed"] as const;
/** What a moderator does with a reported message. */
export const REPORT_ACTIONS = ["delete", "mute", "ban", "dismiss"] as const;
/**
 * Every action the audit log records. Stored as text (not a pg enum) so a new action needs no
 * migration; `admin.audit.list` filters by these.
 */
export const AUDIT_ACTIONS = [
  "auth.login",
  "auth.login_failed",
  "auth.logout",
  "auth.password_changed",
  "auth.password_reset",
  "auth.session_revoked",
  "admin.role_changed",
  "admin.job_retried",
  "admin.webhook_created",
  "admin.webhook_updated",
  "admin.webhook_deleted",
  "admin.submission_updated",
  "room.role_changed",
  "room.ownership_transferred",
  "room.member_kicked",
  "room.member_muted",
  "room.member_unmuted",
  "room.member_banned",
  "room.member_unbanned",
  "room.message_deleted",
  "room.report_resolved",
  "room.blocklist_changed",
] as const;

export type UserRole = (typeof USER_ROLES)[number];
export type RoomRole = (typeof ROOM_ROLES)[number];
export type FormKind = (typeof FORM_KINDS)[number];
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];
export type OutboxKind = (typeof OUTBOX_KINDS)[number];
export type AttachmentStatus = (typeof ATTACHMENT_STATUSES)[number];
export type RoomKind = (typeof ROOM_KINDS)[number];
export type RestrictionKind = (typeof RESTRICTION_KINDS)[number];
export type ReportStatus = (typeof REPORT_STATUSES)[number];
export type ReportAction = (typeof REPORT_ACTIONS)[number];
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
