import { type AnyColumn, desc, type SQL, sql } from "drizzle-orm";
import { z } from "zod";

/**
 * Cursors for lists ordered newest first by (created_at, id): equal timestamps neither skip nor
 * repeat rows, which a cursor on created_at alone would. Opaque to clients: base64url JSON.
 * The timestamp is carried as PostgreSQL's text with microseconds: a JS Date keeps only
 * milliseconds, and rows a few microseconds apart would fall between two pages.
 */
export interface KeysetPosition {
  at: string;
  id: string;
}

const position = z.object({ at: z.iso.datetime(), id: z.string().min(1).max(100) });

/** Select this as `cursorAt` beside the row: the exact created_at a cursor must name. */
export function cursorAt(createdAt: AnyColumn): SQL<string> {
  return sql<string>`to_char(${createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** ORDER BY for newest first, matching the cursor. */
export function newestFirst(createdAt: AnyColumn, id: AnyColumn): SQL[] {
  return [desc(createdAt), desc(id)];
}

/** The rows after `after` in newestFirst order. */
export function olderThan(createdAt: AnyColumn, id: AnyColumn, after: KeysetPosition): SQL {
  return sql`(${createdAt}, ${id}) < (${after.at}::timestamptz, ${after.id})`;
}

function encode(row: KeysetPosition): string {
  return Buffer.from(JSON.stringify({ at: row.at, id: row.id })).toString("base64url");
}

/** The position a cursor names, or null for anything we did not hand out. */
export function decodeKeysetCursor(cursor: string): KeysetPosition | null {
  try {
    const parsed = position.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** One page from `limit + 1` rows fetched: the rows without their `cursorAt`, and the next cursor. */
export function pageOf<T extends { id: string; cursorAt: string }>(
  rows: T[],
  limit: number,
): { items: Omit<T, "cursorAt">[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(({ cursorAt: _at, ...item }) => item),
    nextCursor: rows.length > limit && last ? encode({ at: last.cursorAt, id: last.id }) : null,
  };
}
