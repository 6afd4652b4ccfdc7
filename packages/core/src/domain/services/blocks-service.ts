import { type Queryable, schema } from "@parley/db";
import { and, asc, eq, type SQLWrapper, sql } from "drizzle-orm";
import { DomainError } from "../errors.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";

/** Published after a block or unblock commits: open subscriptions of the blocker reload their set. */
export const blocksTopic = "blocks:changed";

export interface BlocksChanged {
  blockerId: string;
  /**
   * Everyone the blocker blocks now, read after the change. Applied as it arrives, so a send
   * published after it (on the same bus) is already filtered; the receiver reads the set again
   * too, in case two changes' announcements crossed.
   */
  blocked: string[];
}

async function announceBlocksChange(deps: ChatDeps, blockerId: string): Promise<void> {
  const blocked = [...(await blockedBy(deps.db, blockerId))];
  const change: BlocksChanged = { blockerId, blocked };
  await deps.bus.publish(blocksTopic, change);
}

async function requireUser(deps: ChatDeps, userId: string) {
  const [user] = await deps.db
    .select({ id: schema.users.id })
    .from(schema.users)
    .where(eq(schema.users.id, userId));
  if (!user) throw new DomainError("not-found", "No such user");
}

/** Blocking twice changes nothing. */
export async function blockUser(deps: ChatDeps, caller: Caller, userId: string) {
  if (userId === caller.id) throw new DomainError("invalid", "You cannot block yourself", "userId");
  await requireUser(deps, userId);
  await deps.db
    .insert(schema.userBlocks)
    .values({ blockerId: caller.id, blockedId: userId })
    .onConflictDoNothing();
  await announceBlocksChange(deps, caller.id);
  return { ok: true as const };
}

/** Unblocking someone not blocked changes nothing. */
export async function unblockUser(deps: ChatDeps, caller: Caller, userId: string) {
  await deps.db
    .delete(schema.userBlocks)
    .where(and(eq(schema.userBlocks.blockerId, caller.id), eq(schema.userBlocks.blockedId, userId)));
  await announceBlocksChange(deps, caller.id);
  return { ok: true as const };
}

export async function listBlocks(deps: ChatDeps, caller: Caller) {
  const items = await deps.db
    .select({
      userId: schema.users.id,
      displayName: schema.users.displayName,
      handle: schema.users.handle,
      blockedAt: schema.userBlocks.createdAt,
    })
    .from(schema.userBlocks)
    .innerJoin(schema.users, eq(schema.users.id, schema.userBlocks.blockedId))
    .where(eq(schema.userBlocks.blockerId, caller.id))
    .orderBy(asc(schema.users.displayName), asc(schema.users.id));
  return { items };
}

/** The ids `blockerId` blocked. */
export async function blockedBy(db: Queryable, blockerId: string): Promise<Set<string>> {
  const rows = await db
    .select({ id: schema.userBlocks.blockedId })
    .from(schema.userBlocks)
    .where(eq(schema.userBlocks.blockerId, blockerId));
  return new Set(rows.map((row) => row.id));
}

/**
 * Whether `userId` and any of `others` blocked one another, in either direction: either side's
 * block refuses a new conversation between them.
 */
export async function blockedBetween(db: Queryable, userId: string, others: string[]): Promise<boolean> {
  if (others.length === 0) return false;
  const ids = sql.join(
    others.map((id) => sql`${id}`),
    sql`, `,
  );
  const b = schema.userBlocks;
  const [row] = await db
    .select({ one: sql<number>`1` })
    .from(b)
    .where(
      sql`(${b.blockerId} = ${userId} and ${b.blockedId} in (${ids}))
        or (${b.blockedId} = ${userId} and ${b.blockerId} in (${ids}))`,
    )
    .limit(1);
  return row !== undefined;
}

/** The SQL condition "`viewerId` has not blocked the author `authorColumn`": what hides a blocked user's messages. */
export function notBlockedBy(viewerId: string, authorColumn: SQLWrapper) {
  return sql`not exists (select 1 from user_blocks ub where ub.blocker_id = ${viewerId} and ub.blocked_id = ${authorColumn})`;
}
