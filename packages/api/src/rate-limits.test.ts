import { describe, expect, it } from "vitest";
import { appRouter } from "./root.ts";
import { procedureEntries } from "./trpc-internals.ts";

describe("rate limits", () => {
  it("every mutation takes a point from a named limiter (rateLimit in trpc.ts)", () => {
    const mutations = procedureEntries(appRouter).filter((p) => p.type === "mutation");
    expect(mutations.length).toBeGreaterThan(20);
    const unlimited = mutations.filter((p) => !p.middlewareNames.includes("rateLimited")).map((p) => p.path);
    expect(unlimited).toEqual([]);
  });
});
