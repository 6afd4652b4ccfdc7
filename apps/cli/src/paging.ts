/** One page of a keyset-paged listing, as the admin procedures answer. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The server's largest page. */
const PAGE_SIZE = 100;

/**
 * Follows `nextCursor` until the listing ends or `limit` items are in (default: all), asking
 * for no more than is still wanted.
 */
export async function readPages<T>(
  fetchPage: (cursor: string | undefined, pageSize: number) => Promise<Page<T>>,
  limit = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor, Math.min(PAGE_SIZE, limit - items.length));
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < limit);
  return items;
}

/** `--limit N` as given: a positive whole number, or all when absent; null when it is neither. */
export function parseLimit(value: string | undefined): number | null {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  const limit = Number(value);
  return Number.isInteger(limit) && limit > 0 ? limit : null;
}
