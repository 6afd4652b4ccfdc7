/**
 * The newest page of a room's history as each caller last read it, with the version it was read
 * at (historyVersion in @parley/db: the room's last seq and the caller's blocks). A page is
 * served again only when a fresh read of the version, made by the request itself, finds it
 * unchanged: every change to a room's timeline takes a new seq in its own transaction, so a
 * cached page is never stale, on any instance, with no invalidation message to wait for (a
 * writer reading its own send through another instance sees it at once). The version read also
 * decides access, on every request.
 *
 * Keyed by caller: a page shows which reactions are the caller's and hides the authors the
 * caller blocked. Pages are frozen: the same object is returned to every request that hits it,
 * and the transport may keep its serialised bytes beside it.
 */
export interface HistoryPageCache {
  /** The page stored under `key` at `version`, if that is the version it was stored at. */
  get<T extends object>(key: string, version: string): T | undefined;
  /** Stores a page read at `version` or later (read after the version was). */
  set(key: string, version: string, page: object): void;
  readonly size: number;
}

/** About 50 messages each: at a few tens of KB a page, 256 pages stay within ~20 MB. */
const MAX_PAGES = 256;

export function createHistoryPageCache(maxPages = MAX_PAGES): HistoryPageCache {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least
  // recently used.
  const pages = new Map<string, { version: string; page: object }>();
  return {
    get<T extends object>(key: string, version: string): T | undefined {
      const entry = pages.get(key);
      if (!entry) return undefined;
      if (entry.version !== version) {
        pages.delete(key);
        return undefined;
      }
      pages.delete(key);
      pages.set(key, entry);
      return entry.page as T;
    },
    set(key, version, page) {
      pages.delete(key);
      pages.set(key, { version, page: deepFreeze(page) });
      while (pages.size > maxPages) {
        const oldest = pages.keys().next();
        if (oldest.done) break;
        pages.delete(oldest.value);
      }
    },
    get size() {
      return pages.size;
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
