import { randomInt } from "node:crypto";
import { type Queryable, schema, type Transaction } from "@parley/db";
import { eq, sql } from "drizzle-orm";
import { DomainError } from "../errors.ts";
import { HANDLE_MAX, HANDLE_MIN, RESERVED_HANDLES } from "../schemas/mentions.ts";

const HANDLE_CONSTRAINT = "users_handle_unique";
const UNIQUE_VIOLATION = "23505";
/** Tries at sign-up before giving up: each loses only to a sign-up that took the same handle meanwhile. */
const HANDLE_ATTEMPTS = 12;

/** Whether the error is the unique index on users.handle refusing a value. */
export function isHandleTaken(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const { code, constraint } = e as { code?: unknown; constraint?: unknown };
    if (code === UNIQUE_VIOLATION && constraint === HANDLE_CONSTRAINT) return true;
  }
  return false;
}

/** A readable handle from a display name: "Zoë Ann-Lee" → "zoe_annlee"; lowercase [a-z0-9_]. */
export function handleFromName(displayName: string): string {
  const folded = displayName
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/\s+/g, "_")
    .replace(/[^a-z0-9_]/g, "")
    .replace(/_+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, HANDLE_MAX)
    .replace(/_+$/, "");
  if (folded.length === 0) return "user";
  return folded.length < HANDLE_MIN ? `user_${folded}` : folded;
}

function withSuffix(base: string, n: number): string {
  const suffix = String(n);
  return `${base.slice(0, HANDLE_MAX - suffix.length)}${suffix}`;
}

/**
 * A free handle of base, base2, base3…, as far as this transaction can see: the first one, or
 * after losing a race (`attempt` > 1) one of the next few at random, so that many sign-ups with
 * one name do not all try the same next number again. The unique index decides (withFreeHandle).
 */
async function freeHandle(db: Queryable, base: string, attempt: number): Promise<string> {
  const stem = base.slice(0, HANDLE_MAX - 4);
  const rows = await db
    .select({ handle: schema.users.handle })
    .from(schema.users)
    .where(sql`starts_with(${schema.users.handle}, ${stem})`);
  const taken = new Set([...rows.map((row) => row.handle), ...RESERVED_HANDLES]);
  let skip = attempt > 1 ? randomInt(attempt * 4) : 0;
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : withSuffix(base, n);
    if (taken.has(candidate)) continue;
    if (skip-- === 0) return candidate;
  }
}

/**
 * Runs `insert` with a free handle derived from the display name, inside `tx`. Each attempt is
 * a savepoint: a sign-up that loses the race for a handle to a concurrent one rolls back only
 * its insert, and tries the next free handle.
 */
export async function withFreeHandle<T>(
  tx: Transaction,
  displayName: string,
  insert: (db: Transaction, handle: string) => Promise<T>,
): Promise<T> {
  const base = handleFromName(displayName);
  for (let attempt = 1; ; attempt++) {
    const handle = await freeHandle(tx, base, attempt);
    try {
      return await tx.transaction((sp) => insert(sp, handle));
    } catch (error) {
      if (!isHandleTaken(error) || attempt >= HANDLE_ATTEMPTS) throw error;
    }
  }
}

/** Changes the caller's handle; one another user holds is a CONFLICT on `handle`. */
export async function changeHandle(
  deps: { db: Queryable; clock: () => Date },
  userId: string,
  handle: string,
) {
  try {
    const [row] = await deps.db
      .update(schema.users)
      .set({ handle, updatedAt: deps.clock() })
      .where(eq(schema.users.id, userId))
      .returning({ handle: schema.users.handle });
    if (!row) throw new DomainError("not-found", "No such user");
    return row;
  } catch (error) {
    if (isHandleTaken(error)) throw new DomainError("conflict", "This handle is taken", "handle");
    throw error;
  }
}
