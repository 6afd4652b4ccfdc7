import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import {
  ATTACHMENT_STATUSES,
  FORM_KINDS,
  JOB_STATUSES,
  OUTBOX_KINDS,
  REPORT_STATUSES,
  RESTRICTION_KINDS,
  ROOM_KINDS,
  ROOM_ROLES,
  SUBMISSION_STATUSES,
  USER_ROLES,
} from "./enums.ts";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const userRole = pgEnum("user_role", USER_ROLES);
export const roomRole = pgEnum("room_role", ROOM_ROLES);
export const submissionKind = pgEnum("submission_kind", FORM_KINDS);
export const submissionStatus = pgEnum("submission_status", SUBMISSION_STATUSES);
export const jobStatus = pgEnum("job_status", JOB_STATUSES);
export const outboxKind = pgEnum("outbox_kind", OUTBOX_KINDS);
export const attachmentStatus = pgEnum("attachment_status", ATTACHMENT_STATUSES);
export const roomKind = pgEnum("room_kind", ROOM_KINDS);
export const restrictionKind = pgEnum("restriction_kind", RESTRICTION_KINDS);
export const reportStatus = pgEnum("report_status", REPORT_STATUSES);

export const users = pgTable("users", {
  id: text("id").primaryKey(),
  // Stored lowercased by the auth service, so a plain unique index is enough.
  email: text("email").notNull().unique(),
  displayName: text("display_name").notNull(),
  // What `@handle` mentions resolve to: lowercase [a-z0-9_], unique. The auth service derives it from
  // the display name at sign-up; the default only keeps other insert paths (tests, admin create) valid.
  handle: text("handle").notNull().unique().default(sql`'user_' || substr(md5(random()::text), 1, 10)`),
  passwordHash: text("password_hash").notNull(),
  role: userRole("role").notNull().default("user"),
  emailVerified: boolean("email_verified").notNull().default(false),
  // The mention-email preference (an unsubscribe link turns it off) and when the last one went:
  // at most one mention email per user per window.
  mentionEmails: boolean("mention_emails").notNull().default(true),
  lastMentionEmailAt: timestamp("last_mention_email_at", { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const sessions = pgTable(
  "sessions",
  {
    // lucia's session id: also the cookie value and the bearer token.
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // Sliding expiry, moved forward by lucia on use.
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    // lucia has no absolute lifetime: the session module checks this column.
    createdAt: createdAt(),
    userAgent: text("user_agent"),
    ip: text("ip"),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId)],
);

// Tokens are stored as SHA-256 hashes: a leaked table cannot be replayed.
export const emailVerificationTokens = pgTable(
  "email_verification_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("email_verification_tokens_user_id_idx").on(t.userId)],
);

export const passwordResetTokens = pgTable(
  "password_reset_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("password_reset_tokens_user_id_idx").on(t.userId)],
);

export const rooms = pgTable(
  "rooms",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    description: text("description"),
    isPrivate: boolean("is_private").notNull().default(false),
    // A DM is a private room of kind `dm` with fixed members. dm_key (its members' ids, sorted and
    // joined) is unique: opening a conversation with the same people twice finds the first.
    kind: roomKind("kind").notNull().default("room"),
    dmKey: text("dm_key").unique(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => users.id),
    // The room's event counter: taken under this row's lock, so commit order equals seq order.
    lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("rooms_public_idx").on(t.isPrivate, t.createdAt), index("rooms_owner_id_idx").on(t.ownerId)],
);

export const roomMembers = pgTable(
  "room_members",
  {
    roomId: uuid("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: roomRole("role").notNull().default("member"),
    lastReadSeq: bigint("last_read_seq", { mode: "number" }).notNull().default(0),
    joinedAt: timestamp("joined_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId] }), index("room_members_user_id_idx").on(t.userId)],
);

export const messages = pgTable(
  "messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    roomId: uuid("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    content: text("content").notNull(),
    clientMessageId: text("client_message_id").notNull(),
    // A thread reply points at its root (one level: a reply to a reply is a reply to the root).
    // The root carries its reply count and last reply time, updated in the reply's transaction.
    parentId: uuid("parent_id").references((): AnyPgColumn => messages.id, { onDelete: "cascade" }),
    replyCount: integer("reply_count").notNull().default(0),
    lastReplyAt: timestamp("last_reply_at", { withTimezone: true }),
    // Who the text mentions, resolved by the server when the message is sent (the text stays as
    // typed); mentions_room is an `@room` by a moderator.
    mentions: text("mentions").array().notNull().default(sql`'{}'::text[]`),
    mentionsRoom: boolean("mentions_room").notNull().default(false),
    // The views of its files, written once by the send (attachments never change afterwards), so
    // history and events read them with the row and no join.
    attachments: jsonb("attachments").$type<AttachmentViewJson[]>().notNull().default(sql`'[]'::jsonb`),
    createdAt: createdAt(),
    editedAt: timestamp("edited_at", { withTimezone: true }),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("messages_room_seq_idx").on(t.roomId, t.seq),
    // A thread's history pages by seq like a room's.
    index("messages_thread_idx").on(t.parentId, t.seq).where(sql`${t.parentId} is not null`),
    // Idempotent sends: a retried clientMessageId finds the first message.
    uniqueIndex("messages_user_client_id_idx").on(t.userId, t.clientMessageId),
    // A pending list of 64 kB, PostgreSQL's least, not its 4 MB default: a send appends its words to
    // the list, and the send that finds the list full merges it into the index while holding its
    // room's row lock. At 4 MB that merge took 92-156 ms once every ~17,000 sends, and every send
    // to the room waited; at 64 kB the slowest of 40,000 sends took 8.8-13.9 ms, for the same
    // PostgreSQL CPU per send (fastupdate off, no list: 11 ms, but 12% more CPU). bench/README.md.
    index("messages_content_search_idx")
      .using("gin", sql`to_tsvector('english', ${t.content})`)
      .with({ fastupdate: true, gin_pending_list_limit: 64 }),
  ],
);

/** A file on a message as every API output shows it (the `attachments` of the message view). */
export interface AttachmentViewJson {
  id: string;
  name: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  url: string;
  thumbnailUrl: string | null;
}

// Files uploaded for messages. The bytes are in the blob store under keys made from the id
// (`a/<id>`, `a/<id>.thumb`); a row is asked for (pending), filled (stored), put on one message
// (message_id), and removed by the sweeper when never sent or when its message is deleted.
export const attachments = pgTable(
  "attachments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // No foreign key: when a room is deleted its rows stay (their message_id set null with the
    // messages) until the sweeper has removed their blobs; a cascade would lose track of them.
    roomId: uuid("room_id").notNull(),
    uploaderId: text("uploader_id")
      .notNull()
      .references(() => users.id),
    messageId: uuid("message_id").references(() => messages.id, { onDelete: "set null" }),
    status: attachmentStatus("status").notNull().default("pending"),
    // Sanitised when asked for; never used to build a path or a key.
    name: text("name").notNull(),
    // Declared when asked for, then the type detected from the bytes.
    contentType: text("content_type").notNull(),
    // Declared when asked for (the most the upload may send), then the bytes' length.
    size: integer("size").notNull(),
    width: integer("width"),
    height: integer("height"),
    hasThumbnail: boolean("has_thumbnail").notNull().default(false),
    createdAt: createdAt(),
    storedAt: timestamp("stored_at", { withTimezone: true }),
  },
  (t) => [
    // The quota: the sum of a user's rows.
    index("attachments_uploader_idx").on(t.uploaderId),
    index("attachments_message_idx").on(t.messageId),
    // The sweeper's two kinds of garbage: rows never put on a message, and deleted ones.
    index("attachments_unsent_idx").on(t.createdAt).where(sql`${t.messageId} is null`),
    index("attachments_deleted_idx").on(t.createdAt).where(sql`${t.status} = 'deleted'`),
  ],
);

// Every change to a room, numbered by the room's seq: what `chat.events` replays on resume.
export const roomEvents = pgTable(
  "room_events",
  {
    roomId: uuid("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    type: text("type").notNull(),
    messageId: uuid("message_id"),
    actorId: text("actor_id"),
    payload: jsonb("payload").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.seq] })],
);

export const reactions = pgTable(
  "reactions",
  {
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    emoji: text("emoji").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.userId, t.emoji] })],
);

export const formSubmissions = pgTable(
  "form_submissions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: submissionKind("kind").notNull(),
    status: submissionStatus("status").notNull().default("new"),
    name: text("name").notNull(),
    email: text("email").notNull(),
    company: text("company"),
    // The form's remaining fields, as validated by its zod schema.
    fields: jsonb("fields").notNull(),
    notes: jsonb("notes").$type<{ at: string; by: string; text: string }[]>().notNull().default([]),
    ip: text("ip"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("form_submissions_kind_status_idx").on(t.kind, t.status, t.createdAt),
    index("form_submissions_created_at_idx").on(t.createdAt),
  ],
);

export const emailOutbox = pgTable(
  "email_outbox",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // One outbox, one worker's leases and retries for both kinds. A webhook job's template is
    // its event type, to_address the URL, data the webhook's id and the payload.
    kind: outboxKind("kind").notNull().default("email"),
    template: text("template").notNull(),
    toAddress: text("to_address").notNull(),
    data: jsonb("data").notNull(),
    status: jobStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull().default(8),
    runAt: timestamp("run_at", { withTimezone: true }).notNull().defaultNow(),
    lastError: text("last_error"),
    sentAt: timestamp("sent_at", { withTimezone: true }),
    // A claimed job's lease: past it, a job still `sending` belongs to a worker that died and is
    // claimable again. lease_id changes on every claim, so a worker that outlived its lease cannot
    // overwrite the outcome of the worker that took the job over.
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    leaseId: uuid("lease_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("email_outbox_due_idx").on(t.status, t.runAt),
    index("email_outbox_created_at_idx").on(t.createdAt),
  ],
);

export const emailAttempts = pgTable(
  "email_attempts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    jobId: uuid("job_id")
      .notNull()
      .references(() => emailOutbox.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    error: text("error"),
  },
  (t) => [index("email_attempts_job_id_idx").on(t.jobId)],
);

// What the mail transport rendered, when no SMTP server is configured (dev, tests, CLI).
export const recordedEmails = pgTable(
  "recorded_emails",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    jobId: uuid("job_id"),
    toAddress: text("to_address").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("recorded_emails_to_idx").on(t.toAddress, t.createdAt),
    // One recording per job: a job re-sent after a crash between sending and marking it sent
    // (the transport ran, the commit did not) is not recorded twice.
    uniqueIndex("recorded_emails_job_id_idx").on(t.jobId),
  ],
);

// A user who follows a thread (by replying, being its author, or explicitly) sees its unread count.
export const threadFollows = pgTable(
  "thread_follows",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    threadId: uuid("thread_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    roomId: uuid("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    // The room seq of the last reply the user has read.
    lastReadSeq: bigint("last_read_seq", { mode: "number" }).notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.threadId] }), index("thread_follows_thread_idx").on(t.threadId)],
);

// The mentions inbox: one row per mentioned user per message.
export const mentionInbox = pgTable(
  "mention_inbox",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    roomId: uuid("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    readAt: timestamp("read_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.messageId] }),
    index("mention_inbox_user_idx").on(t.userId, t.createdAt),
    index("mention_inbox_unread_idx").on(t.userId).where(sql`${t.readAt} is null`),
  ],
);

// A block hides the blocked user's messages from the blocker and refuses new DMs between them.
export const userBlocks = pgTable(
  "user_blocks",
  {
    blockerId: text("blocker_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    blockedId: text("blocked_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.blockerId, t.blockedId] }),
    index("user_blocks_blocked_idx").on(t.blockedId),
  ],
);

// Mutes and bans, per room, each with an optional expiry (null: until lifted).
export const roomRestrictions = pgTable(
  "room_restrictions",
  {
    roomId: uuid("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: restrictionKind("kind").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    reason: text("reason"),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId, t.kind] })],
);

export const messageReports = pgTable(
  "message_reports",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    roomId: uuid("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    reporterId: text("reporter_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    reason: text("reason").notNull(),
    status: reportStatus("status").notNull().default("open"),
    resolvedBy: text("resolved_by").references(() => users.id),
    resolution: text("resolution"),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    // One report per reporter per message: reporting twice is idempotent.
    uniqueIndex("message_reports_reporter_idx").on(t.messageId, t.reporterId),
    index("message_reports_queue_idx").on(t.roomId, t.status, t.createdAt),
  ],
);

// Words refused in sends: per room, or global (room_id null). Stored normalised (NFKC, case-folded).
export const blockedWords = pgTable(
  "blocked_words",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    roomId: uuid("room_id").references(() => rooms.id, { onDelete: "cascade" }),
    word: text("word").notNull(),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [unique("blocked_words_room_word_key").on(t.roomId, t.word).nullsNotDistinct()],
);

// The audit log: written in the same transaction as the action it records. No foreign keys, so
// entries outlive what they name until the retention setting removes them.
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    action: text("action").notNull(),
    actorId: text("actor_id"),
    targetType: text("target_type"),
    targetId: text("target_id"),
    roomId: uuid("room_id"),
    ip: text("ip"),
    details: jsonb("details").notNull().default({}),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at, t.id),
    index("audit_log_action_idx").on(t.action, t.at),
    index("audit_log_actor_idx").on(t.actorId, t.at),
  ],
);

// Outgoing webhooks, registered by admins. room_id null: every public room (never DMs or private
// rooms). The secret signs deliveries and must be readable to sign, so it is stored as given
// (whsec_…); it is shown once, at creation.
// Deliveries are queued by the trigger room_events_enqueue_webhooks (migration 0003_webhooks),
// in the transaction of each room event.
export const webhooks = pgTable(
  "webhooks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    url: text("url").notNull(),
    roomId: uuid("room_id").references(() => rooms.id, { onDelete: "cascade" }),
    eventTypes: text("event_types").array().notNull(),
    secret: text("secret").notNull(),
    active: boolean("active").notNull().default(true),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("webhooks_room_id_idx").on(t.roomId)],
);
