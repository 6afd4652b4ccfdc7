import { type Database, type Queryable, schema } from "@parley/db";
import type { AuditAction } from "@parley/db/enums";
import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { DomainError } from "../errors.ts";
import type { ListAuditInput } from "../schemas/audit.ts";
import { cursorAt, decodeKeysetCursor, newestFirst, olderThan, pageOf } from "./keyset-cursor.ts";

/** One audit entry: who did what to what. `details` holds what the action changed, never secrets. */
export interface AuditEntry {
  action: AuditAction;
  actorId: string | null;
  targetType?: "user" | "session" | "room" | "message" | "job" | "submission" | "report" | "webhook";
  targetId?: string;
  roomId?: string;
  ip?: string | null;
  details?: Record<string, unknown>;
  at?: Date;
}

/** Who did an admin action, from where: the signed-in caller and the request's address. */
export interface AuditCaller {
  userId: string;
  ip?: string | null;
}

/**
 * Records an audit entry inside the caller's transaction, so the entry exists exactly when the
 * action committed. Pass the transaction, not the database, for any action that writes.
 */
export async function recordAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  await tx.insert(schema.auditLog).values({
    action: entry.action,
    actorId: entry.actorId,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    roomId: entry.roomId ?? null,
    ip: entry.ip ?? null,
    details: entry.details ?? {},
    ...(entry.at ? { at: entry.at } : {}),
  });
}

const DEFAULT_PAGE = 50;

/**
 * Entries newest first, paged on (at, id): entries written in the same microsecond neither
 * repeat nor go missing between pages. Each carries its actor's name and email while the
 * account exists (null after it is gone: the log has no foreign keys).
 */
export async function listAudit(deps: { db: Database }, input: ListAuditInput) {
  const limit = input?.limit ?? DEFAULT_PAGE;
  const after = input?.cursor ? decodeKeysetCursor(input.cursor) : null;
  if (input?.cursor && !after) throw new DomainError("invalid", "Is not a valid cursor", "cursor");
  if (input?.from && input.to && input.from >= input.to) {
    throw new DomainError("invalid", "Must be after `from`", "to");
  }
  const a = schema.auditLog;
  const u = schema.users;
  const rows = await deps.db
    .select({
      id: sql<string>`${a.id}::text`,
      at: a.at,
      action: a.action,
      actorId: a.actorId,
      actorName: u.displayName,
      actorEmail: u.email,
      targetType: a.targetType,
      targetId: a.targetId,
      roomId: a.roomId,
      ip: a.ip,
      details: sql<Record<string, unknown>>`${a.details}`,
      cursorAt: cursorAt(a.at),
    })
    .from(a)
    .leftJoin(u, eq(u.id, a.actorId))
    .where(
      and(
        input?.action ? eq(a.action, input.action) : undefined,
        input?.actorId ? eq(a.actorId, input.actorId) : undefined,
        input?.targetId ? eq(a.targetId, input.targetId) : undefined,
        input?.roomId ? eq(a.roomId, input.roomId) : undefined,
        input?.from ? gte(a.at, new Date(input.from)) : undefined,
        input?.to ? lt(a.at, new Date(input.to)) : undefined,
        after ? olderThan(a.at, a.id, after) : undefined,
      ),
    )
    .orderBy(...newestFirst(a.at, a.id))
    .limit(limit + 1);
  const page = pageOf(rows, limit);
  return {
    nextCursor: page.nextCursor,
    items: page.items.map(({ actorName, actorEmail, ...entry }) => ({
      ...entry,
      action: entry.action as AuditAction,
      actor:
        entry.actorId !== null && actorName !== null && actorEmail !== null
          ? { id: entry.actorId, displayName: actorName, email: actorEmail }
          : null,
    })),
  };
}

/** Rows per delete: each batch is its own short statement, so a big purge never holds long locks. */
export const AUDIT_PURGE_BATCH = 1_000;

/**
 * Deletes the entries older than `retentionDays` by the clock (0: keeps everything), in batches
 * of `batchSize`; returns how many went.
 */
export async function purgeAuditLog(
  deps: { db: Database; clock: () => Date },
  options: { retentionDays: number; batchSize?: number },
): Promise<number> {
  if (options.retentionDays <= 0) return 0;
  const batchSize = options.batchSize ?? AUDIT_PURGE_BATCH;
  const cutoff = new Date(deps.clock().getTime() - options.retentionDays * 24 * 60 * 60 * 1000);
  const a = schema.auditLog;
  let total = 0;
  for (;;) {
    // The oldest first, by the (at, id) index; a batch at a time, each in its own transaction.
    const doomed = deps.db
      .select({ id: a.id })
      .from(a)
      .where(lt(a.at, cutoff))
      .orderBy(a.at, a.id)
      .limit(batchSize);
    const deleted = await deps.db.delete(a).where(inArray(a.id, doomed)).returning({ id: a.id });
    total += deleted.length;
    if (deleted.length < batchSize) return total;
  }
}
