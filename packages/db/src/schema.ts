import { sql } from "drizzle-orm";
import {
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
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { FORM_KINDS, JOB_STATUSES, ROOM_ROLES, SUBMISSION_STATUSES, USER_ROLES } from "./enums.ts";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const userRole = pgEnum("user_role", USER_ROLES);
export const roomRole = pgEnum("room_role", ROOM_ROLES);
export const submissionKind = pgEnum("submission_kind", FORM_KINDS);
export const submissionStatus = pgEnum("submission_status", SUBMISSION_STATUSES);
export const jobStatus = pgEnum("job_status", JOB_STATUSES);

export const users = pgTable("users", {
  id: text("id").primaryKey(),
  // Stored lowercased by the auth service, so a plain unique index is enough.
  email: text("email").notNull().unique(),
  displayName: text("display_name").notNull(),
  passwordHash: text("password_hash").notNull(),
  role: userRole("role").notNull().default("user"),
  emailVerified: boolean("email_verified").notNull().default(false),
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
    createdAt: createdAt(),
    editedAt: timestamp("edited_at", { withTimezone: true }),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("messages_room_seq_idx").on(t.roomId, t.seq),
    // Idempotent sends: a retried clientMessageId finds the first message.
    uniqueIndex("messages_user_client_id_idx").on(t.userId, t.clientMessageId),
    index("messages_content_search_idx").using("gin", sql`to_tsvector('english', ${t.content})`),
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
