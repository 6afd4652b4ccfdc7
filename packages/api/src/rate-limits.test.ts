import type { AnyTRPCRouter } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { appRouter } from "./root.ts";

interface ProcedureDef {
  type: "query" | "mutation" | "subscription";
  middlewares: { name: string }[];
}

describe("rate limits", () => {
  it("every mutation takes a point from a named limiter (rateLimit in trpc.ts)", () => {
    const router: AnyTRPCRouter = appRouter;
    const procedures = router._def.procedures as Record<string, { _def: ProcedureDef }>;
    const mutations = Object.entries(procedures).filter(([, p]) => p._def.type === "mutation");
    expect(mutations.length).toBeGreaterThan(20);
    const unlimited = mutations
      .filter(([, p]) => !p._def.middlewares.some((middleware) => middleware.name === "rateLimited"))
      .map(([path]) => path);
    expect(unlimited).toEqual([]);
  });
});
