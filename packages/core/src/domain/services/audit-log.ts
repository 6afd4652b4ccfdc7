import { type Queryable, schema } from "@parley/db";
import type { AuditAction } from "@parley/db/enums";

/** One audit entry: who did what to what. `details` holds what the action changed, never secrets. */
export interface AuditEntry {
  action: AuditAction;
  actorId: string | null;
  targetType?: "user" | "session" | "room" | "message" | "job" | "submission" | "report";
  targetId?: string;
  roomId?: string;
  ip?: string | null;
  details?: Record<string, unknown>;
  at?: Date;
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
