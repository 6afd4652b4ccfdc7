import { type Database, schema } from "@parley/db";
import { and, eq, sql } from "drizzle-orm";
import type { FormNotificationData } from "../email/email-templates.ts";
import { DomainError } from "../errors.ts";
import type {
  ContactSubmitInput,
  DemoSubmitInput,
  ListSubmissionsInput,
  SubmissionKind,
  UpdateSubmissionInput,
} from "../schemas/forms.ts";
import { type AuditCaller, recordAudit } from "./audit-log.ts";
import { enqueueEmail } from "./email-outbox.ts";
import { cursorAt, decodeKeysetCursor, newestFirst, olderThan, pageOf } from "./keyset-cursor.ts";

export interface FormsServiceDeps {
  db: Database;
  clock: () => Date;
  /** Where notifications of new submissions go. */
  teamAddress: string;
}

/** Whether a submission was stored, or dropped because a bot filled the honeypot. */
export interface SubmitOutcome {
  stored: boolean;
}

interface NewSubmission {
  kind: SubmissionKind;
  name: string;
  email: string;
  company: string | null;
  fields: Record<string, string>;
  details: FormNotificationData["details"];
  ip: string | null;
}

const isFilled = (honeypot: string | undefined) => (honeypot ?? "").trim() !== "";

/** Drops undefined values: what is stored is what was given. */
function definedFields(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * The submission and both emails (to the team, and a receipt to the sender) in one transaction:
 * if any insert fails, nothing is stored and nothing is queued.
 */
async function store(deps: FormsServiceDeps, submission: NewSubmission): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(schema.formSubmissions)
      .values({
        kind: submission.kind,
        name: submission.name,
        email: submission.email,
        company: submission.company,
        fields: submission.fields,
        ip: submission.ip,
      })
      .returning({ id: schema.formSubmissions.id });
    if (!row) throw new Error("insert returned no row");
    await enqueueEmail(tx, deps.teamAddress, {
      template: "form-notification",
      data: {
        kind: submission.kind,
        submissionId: row.id,
        name: submission.name,
        email: submission.email,
        company: submission.company,
        details: submission.details,
      },
    });
    await enqueueEmail(tx, submission.email, {
      template: "form-receipt",
      data: { kind: submission.kind, name: submission.name },
    });
  });
}

export async function submitContact(
  deps: FormsServiceDeps,
  input: ContactSubmitInput,
  meta: { ip: string | null },
): Promise<SubmitOutcome> {
  if (isFilled(input.website)) return { stored: false };
  await store(deps, {
    kind: "contact",
    name: input.name,
    email: input.email,
    company: input.company ?? null,
    fields: { subject: input.subject, message: input.message },
    details: [
      { label: "Subject", value: input.subject },
      { label: "Message", value: input.message },
    ],
    ip: meta.ip,
  });
  return { stored: true };
}

export async function submitDemo(
  deps: FormsServiceDeps,
  input: DemoSubmitInput,
  meta: { ip: string | null },
): Promise<SubmitOutcome> {
  if (isFilled(input.website)) return { stored: false };
  const fields = definedFields({
    companySize: input.companySize,
    role: input.role,
    useCase: input.useCase,
    preferredDate: input.preferredDate,
    timezone: input.timezone,
    phone: input.phone,
  });
  const details = [
    { label: "Company size", value: input.companySize },
    { label: "Role", value: input.role },
    { label: "Use case", value: input.useCase },
    { label: "Preferred date", value: input.preferredDate },
    { label: "Time zone", value: input.timezone },
    { label: "Phone", value: input.phone },
  ].filter((row): row is { label: string; value: string } => row.value !== undefined);
  await store(deps, {
    kind: "demo",
    name: input.name,
    email: input.workEmail,
    company: input.company,
    fields,
    details,
    ip: meta.ip,
  });
  return { stored: true };
}

function submissionColumns() {
  const s = schema.formSubmissions;
  return {
    id: s.id,
    kind: s.kind,
    status: s.status,
    name: s.name,
    email: s.email,
    company: s.company,
    fields: sql<Record<string, string>>`${s.fields}`,
    notes: s.notes,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

const DEFAULT_PAGE = 50;

/** Submissions newest first, optionally of one kind and status. */
export async function listSubmissions(deps: { db: Database }, input: ListSubmissionsInput) {
  const limit = input?.limit ?? DEFAULT_PAGE;
  const after = input?.cursor ? decodeKeysetCursor(input.cursor) : null;
  if (input?.cursor && !after) throw new DomainError("invalid", "Is not a valid cursor", "cursor");
  const s = schema.formSubmissions;
  const rows = await deps.db
    .select({ ...submissionColumns(), cursorAt: cursorAt(s.createdAt) })
    .from(s)
    .where(
      and(
        input?.kind ? eq(s.kind, input.kind) : undefined,
        input?.status ? eq(s.status, input.status) : undefined,
        after ? olderThan(s.createdAt, s.id, after) : undefined,
      ),
    )
    .orderBy(...newestFirst(s.createdAt, s.id))
    .limit(limit + 1);
  return pageOf(rows, limit);
}

export async function getSubmission(deps: { db: Database }, id: string) {
  const [row] = await deps.db
    .select(submissionColumns())
    .from(schema.formSubmissions)
    .where(eq(schema.formSubmissions.id, id));
  if (!row) throw new DomainError("not-found", "No such submission");
  return row;
}

/** Sets the status and/or appends a note (notes are never edited: they are the history). */
export async function updateSubmission(
  deps: { db: Database; clock: () => Date },
  input: UpdateSubmissionInput,
  by: { email: string } & AuditCaller,
) {
  const s = schema.formSubmissions;
  const now = deps.clock();
  const note = input.note === undefined ? null : { at: now.toISOString(), by: by.email, text: input.note };
  const row = await deps.db.transaction(async (tx) => {
    // Locked: the old status in the entry is the one this update replaced.
    const [before] = await tx.select({ status: s.status }).from(s).where(eq(s.id, input.id)).for("update");
    if (!before) return undefined;
    const [row] = await tx
      .update(s)
      .set({
        ...(input.status ? { status: input.status } : {}),
        ...(note ? { notes: sql`${s.notes} || jsonb_build_array(${JSON.stringify(note)}::jsonb)` } : {}),
        updatedAt: now,
      })
      .where(eq(s.id, input.id))
      .returning(submissionColumns());
    if (row) {
      // The note's text stays on the submission: the entry says that one was added.
      await recordAudit(tx, {
        action: "admin.submission_updated",
        actorId: by.userId,
        targetType: "submission",
        targetId: input.id,
        ip: by.ip ?? null,
        details: {
          ...(input.status ? { status: { from: before.status, to: row.status } } : {}),
          noteAdded: note !== null,
        },
        at: now,
      });
    }
    return row;
  });
  if (!row) throw new DomainError("not-found", "No such submission");
  return row;
}
