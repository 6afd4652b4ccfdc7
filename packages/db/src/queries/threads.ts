import type { Queryable } from "../create-db.ts";
import { defineStatement } from "../statements.ts";
import { type HistoryItem, messagePageSql } from "./messages.ts";

/**
 * One page of a thread: its root (a history item, reactions included) and its replies in paging
 * order, `limit + 1` of them, read from messages_thread_idx. The caller's access to the root's
 * room is checked by the service before. $1 the root, $2 before/after seq, $3 rows to fetch,
 * $4 the caller.
 */
function threadStatement(name: string, seqCondition: string, order: "asc" | "desc") {
  return defineStatement<{ root: HistoryItem | null; items: HistoryItem[] }>(
    name,
    `select (${messagePageSql("m.id = $1::uuid", order, "1", "$4::text")}) -> 0 as root,
            (${messagePageSql(`m.parent_id = $1::uuid and ${seqCondition}`, order, "$3", "$4::text")}) as items`,
  );
}

const newestBefore = threadStatement(
  "parley_thread_before",
  "m.seq < coalesce($2::bigint, 9223372036854775807)",
  "desc",
);
const oldestAfter = threadStatement("parley_thread_after", "m.seq > $2::bigint", "asc");

/**
 * A page of a thread's replies: newest first before `before` (or the newest), or the oldest after
 * `after`, oldest first; `limit` rows. `root` is null when the message does not exist.
 */
export async function threadPage(
  db: Queryable,
  input: { threadId: string; before?: number; after?: number; limit: number; callerId: string },
): Promise<{ root: HistoryItem | null; items: HistoryItem[] }> {
  const forward = input.after !== undefined;
  const statement = forward ? oldestAfter : newestBefore;
  const [page] = await statement.run(db, [
    input.threadId,
    forward ? input.after : (input.before ?? null),
    input.limit,
    input.callerId,
  ]);
  return page ?? { root: null, items: [] };
}
