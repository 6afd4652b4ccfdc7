// The closed lists the database stores as enums, written once. schema.ts builds its pgEnums from
// them, packages/core its zod enums, the web app and the CLI their menus; enums.test.ts checks
// that a migrated database holds exactly these values. No imports: the web bundle includes this.

export const USER_ROLES = ["user", "admin"] as const;
export const ROOM_ROLES = ["owner", "moderator", "member"] as const;
/** The public forms: one per kind, each with its own input schema and procedure. */
export const FORM_KINDS = ["contact", "demo"] as const;
export const SUBMISSION_STATUSES = ["new", "contacted", "qualified", "closed"] as const;
export const JOB_STATUSES = ["pending", "sending", "sent", "dead"] as const;

export type UserRole = (typeof USER_ROLES)[number];
export type RoomRole = (typeof ROOM_ROLES)[number];
export type FormKind = (typeof FORM_KINDS)[number];
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];
