import { randomUUID } from "node:crypto";
import { type Database, schema } from "@parley/db";
import { and, eq, ilike, or } from "drizzle-orm";
import type { PasswordHasher } from "../../infra/auth/password-hasher.ts";
import { type EventBus, publishUsersChanged } from "../bus/event-bus.ts";
import { DomainError } from "../errors.ts";
import type { ListUsersInput, UserRole } from "../schemas/admin.ts";
import type { RegisterInput } from "../schemas/auth.ts";
import { type AuditCaller, recordAudit } from "./audit-log.ts";
import { cursorAt, decodeKeysetCursor, newestFirst, olderThan, pageOf } from "./keyset-cursor.ts";

function userColumns() {
  const u = schema.users;
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    role: u.role,
    emailVerified: u.emailVerified,
    createdAt: u.createdAt,
  };
}

const DEFAULT_PAGE = 50;

/** `%`, `_` and `\` are LIKE wildcards: escaped, any text searches for itself. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listUsers(deps: { db: Database }, input: ListUsersInput) {
  const limit = input?.limit ?? DEFAULT_PAGE;
  const after = input?.cursor ? decodeKeysetCursor(input.cursor) : null;
  if (input?.cursor && !after) throw new DomainError("invalid", "Is not a valid cursor", "cursor");
  const u = schema.users;
  const search = input?.search ? likePattern(input.search) : null;
  const rows = await deps.db
    .select({ ...userColumns(), cursorAt: cursorAt(u.createdAt) })
    .from(u)
    .where(
      and(
        search ? or(ilike(u.email, search), ilike(u.displayName, search)) : undefined,
        after ? olderThan(u.createdAt, u.id, after) : undefined,
      ),
    )
    .orderBy(...newestFirst(u.createdAt, u.id))
    .limit(limit + 1);
  return pageOf(rows, limit);
}

/**
 * Changes a user's role. The last admin cannot be demoted: nobody could promote anyone again
 * short of editing the database. Once committed, the user's open sockets close (they were
 * opened with the old role) on every instance.
 */
export async function setUserRole(
  deps: { db: Database; bus: EventBus; clock: () => Date },
  input: { userId: string; role: UserRole },
  by: AuditCaller,
) {
  const u = schema.users;
  const { updated, changed } = await deps.db.transaction(async (tx) => {
    // Locking every admin row serialises concurrent demotions: two admins demoting each other
    // at once cannot both see the other as the remaining admin.
    const admins = await tx.select({ id: u.id }).from(u).where(eq(u.role, "admin")).for("update");
    const [target] = await tx.select({ role: u.role }).from(u).where(eq(u.id, input.userId));
    if (!target) throw new DomainError("not-found", "No such user");
    if (target.role === "admin" && input.role !== "admin" && admins.length <= 1) {
      throw new DomainError("conflict", "This is the only admin: promote someone else first");
    }
    const [updated] = await tx
      .update(u)
      .set({ role: input.role, updatedAt: deps.clock() })
      .where(eq(u.id, input.userId))
      .returning(userColumns());
    if (!updated) throw new DomainError("not-found", "No such user");
    await recordAudit(tx, {
      action: "admin.role_changed",
      actorId: by.userId,
      targetType: "user",
      targetId: input.userId,
      ip: by.ip ?? null,
      details: { from: target.role, to: input.role },
      at: deps.clock(),
    });
    return { updated, changed: target.role !== input.role };
  });
  if (changed) await publishUsersChanged(deps.bus, [input.userId]);
  return updated;
}

/** For the operator's `admin:create`: makes an existing account an admin; its id, or null. */
export async function promoteToAdmin(
  deps: { db: Database; clock: () => Date },
  email: string,
): Promise<string | null> {
  const u = schema.users;
  const [row] = await deps.db
    .update(u)
    .set({ role: "admin", updatedAt: deps.clock() })
    .where(eq(u.email, email))
    .returning({ id: u.id });
  return row?.id ?? null;
}

/**
 * For the operator's `admin:create`: a new admin account. Its email counts as verified: the
 * operator vouches for it. An account created meanwhile with the same email is promoted instead.
 */
export async function createAdmin(
  deps: { db: Database; passwords: PasswordHasher; clock: () => Date },
  input: RegisterInput,
): Promise<string> {
  const u = schema.users;
  const passwordHash = await deps.passwords.hash(input.password);
  const [row] = await deps.db
    .insert(u)
    .values({
      id: randomUUID(),
      email: input.email,
      displayName: input.displayName,
      passwordHash,
      role: "admin",
      emailVerified: true,
    })
    .onConflictDoUpdate({ target: u.email, set: { role: "admin", updatedAt: deps.clock() } })
    .returning({ id: u.id });
  if (!row) throw new Error("insert returned no row");
  return row.id;
}
