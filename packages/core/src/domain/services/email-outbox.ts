import { type Database, type Queryable, schema } from "@parley/db";
import { and, count, eq, inArray, sql } from "drizzle-orm";
import type { EmailTemplate } from "../email/email-templates.ts";
import { DomainError } from "../errors.ts";
import type { JobStatus, ListJobsInput } from "../schemas/admin.ts";
import { type AuditCaller, recordAudit } from "./audit-log.ts";
import { cursorAt, decodeKeysetCursor, newestFirst, olderThan, pageOf } from "./keyset-cursor.ts";

export type { EmailTemplate } from "../email/email-templates.ts";

/** Tries before a job is marked dead, unless the caller of enqueueEmail says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 8;

/** Queues an email in the caller's transaction: it leaves only if the transaction commits. */
export async function enqueueEmail(
  db: Queryable,
  to: string,
  email: EmailTemplate,
  options: { maxAttempts?: number; runAt?: Date } = {},
): Promise<void> {
  await db.insert(schema.emailOutbox).values({
    template: email.template,
    toAddress: to,
    data: email.data,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    // Later than now: a digest that waits for what else arrives before it goes.
    ...(options.runAt ? { runAt: options.runAt } : {}),
  });
}

function jobColumns() {
  return {
    id: schema.emailOutbox.id,
    kind: schema.emailOutbox.kind,
    template: schema.emailOutbox.template,
    toAddress: schema.emailOutbox.toAddress,
    status: schema.emailOutbox.status,
    attempts: schema.emailOutbox.attempts,
    maxAttempts: schema.emailOutbox.maxAttempts,
    runAt: schema.emailOutbox.runAt,
    lastError: schema.emailOutbox.lastError,
    sentAt: schema.emailOutbox.sentAt,
    createdAt: schema.emailOutbox.createdAt,
  };
}

const DEFAULT_PAGE = 50;

/**
 * Jobs, newest first. The data column is left out on purpose: it holds the links of
 * verification and reset emails, which would let an admin take over any account.
 */
/** How many jobs the outbox holds in each status (absent: none); one grouped count, for metrics. */
export async function countJobsByStatus(deps: { db: Database }): Promise<Map<JobStatus, number>> {
  const rows = await deps.db
    .select({ status: schema.emailOutbox.status, n: count() })
    .from(schema.emailOutbox)
    .groupBy(schema.emailOutbox.status);
  return new Map(rows.map((row) => [row.status, row.n]));
}

export async function listJobs(deps: { db: Database }, input: ListJobsInput) {
  const limit = input?.limit ?? DEFAULT_PAGE;
  const after = input?.cursor ? decodeKeysetCursor(input.cursor) : null;
  if (input?.cursor && !after) throw new DomainError("invalid", "Is not a valid cursor", "cursor");
  const o = schema.emailOutbox;
  const rows = await deps.db
    .select({ ...jobColumns(), cursorAt: cursorAt(o.createdAt) })
    .from(o)
    .where(
      and(
        input?.status ? eq(o.status, input.status) : undefined,
        after ? olderThan(o.createdAt, o.id, after) : undefined,
      ),
    )
    .orderBy(...newestFirst(o.createdAt, o.id))
    .limit(limit + 1);
  const page = pageOf(rows, limit);
  const attempts = page.items.length
    ? await deps.db
        .select({ jobId: schema.emailAttempts.jobId, n: count() })
        .from(schema.emailAttempts)
        .where(
          inArray(
            schema.emailAttempts.jobId,
            page.items.map((row) => row.id),
          ),
        )
        .groupBy(schema.emailAttempts.jobId)
    : [];
  const attemptsByJob = new Map(attempts.map((row) => [row.jobId, row.n]));
  return {
    items: page.items.map((row) => ({ ...row, recordedAttempts: attemptsByJob.get(row.id) ?? 0 })),
    nextCursor: page.nextCursor,
  };
}

const RETRYABLE: JobStatus[] = ["dead", "pending"];

/**
 * Runs a dead (or waiting) job again now, with a fresh allowance of attempts. The attempt
 * count keeps growing, so the attempt history stays in order.
 */
export async function retryJob(deps: { db: Database; clock: () => Date }, id: string, by: AuditCaller) {
  const o = schema.emailOutbox;
  const { row, existing } = await deps.db.transaction(async (tx) => {
    // Locked, so the status the entry names as the old one is the one this update replaced.
    const [existing] = await tx
      .select({ status: o.status, kind: o.kind })
      .from(o)
      .where(eq(o.id, id))
      .for("update");
    if (!existing || !RETRYABLE.includes(existing.status)) return { row: undefined, existing };
    const [row] = await tx
      .update(o)
      .set({
        status: "pending",
        runAt: deps.clock(),
        maxAttempts: sql`${o.attempts} + ${DEFAULT_MAX_ATTEMPTS}`,
        lockedUntil: null,
        leaseId: null,
      })
      .where(and(eq(o.id, id), inArray(o.status, RETRYABLE)))
      .returning(jobColumns());
    if (row) {
      await recordAudit(tx, {
        action: "admin.job_retried",
        actorId: by.userId,
        targetType: "job",
        targetId: id,
        ip: by.ip ?? null,
        details: {
          template: row.template,
          from: existing.status,
          to: row.status,
          maxAttempts: row.maxAttempts,
        },
        at: deps.clock(),
      });
    }
    return { row, existing };
  });
  if (row) return row;
  if (!existing) throw new DomainError("not-found", "No such job");
  throw new DomainError(
    "conflict",
    `This ${existing.kind === "webhook" ? "delivery" : "email"} ${existing.status === "sent" ? "was already sent" : "is being sent right now"}`,
  );
}
