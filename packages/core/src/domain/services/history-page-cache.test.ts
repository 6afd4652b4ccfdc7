import { describe, expect, it } from "vitest";
import { createHistoryPageCache } from "./history-page-cache.ts";

describe("history page cache", () => {
  it("returns a page only at the version it was stored at, and forgets it at any other", () => {
    const cache = createHistoryPageCache();
    const page = {
      items: [{ id: "m1", reactions: [{ emoji: "👍", count: 1, mine: true }] }],
      hasMore: false,
    };
    cache.set("room:ada", "7:", page);
    expect(cache.get("room:ada", "7:")).toBe(page);
    expect(cache.get("room:bob", "7:")).toBeUndefined();
    expect(cache.get("room:ada", "8:")).toBeUndefined();
    expect(cache.get("room:ada", "7:")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("freezes what it stores, to the leaves: every request that hits shares the same object", () => {
    const cache = createHistoryPageCache();
    const page = {
      items: [{ id: "m1", mentions: ["u1"], reactions: [{ emoji: "👍", count: 1, mine: true }] }],
    };
    cache.set("k", "1:", page);
    expect(Object.isFrozen(page)).toBe(true);
    expect(Object.isFrozen(page.items[0]?.mentions)).toBe(true);
    expect(Object.isFrozen(page.items[0]?.reactions[0])).toBe(true);
  });

  it("holds at most its bound, dropping the least recently read page first", () => {
    const cache = createHistoryPageCache(3);
    for (const key of ["a", "b", "c"]) cache.set(key, "1:", { key });
    expect(cache.get("a", "1:")).toEqual({ key: "a" });
    cache.set("d", "1:", { key: "d" });
    expect(cache.size).toBe(3);
    expect(cache.get("b", "1:")).toBeUndefined();
    expect(["a", "c", "d"].map((key) => cache.get(key, "1:"))).toEqual([
      { key: "a" },
      { key: "c" },
      { key: "d" },
    ]);
  });
});
