import { initTRPC } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";

// patches/@trpc__server@11.25.2.patch swaps tRPC's object-spread helper for Object.assign, which
// differs from a spread only for an own "__proto__" key: Object.assign would set the prototype.
// tRPC spreads every call's input and context through that helper (input merging, each
// middleware level), so a client's JSON must come out as it went in.
describe("tRPC's object-spread helper (patched)", () => {
  const t = initTRPC.context<{ userId: string }>().create();
  // Parsers that keep every key (zod drops "__proto__"), so that it reaches tRPC's input merging.
  const keepAll = (raw: unknown) => z.object({ a: z.number() }).parse(raw) && (raw as { a: number });
  const echo = t.procedure
    .input(keepAll)
    .input(z.object({ b: z.number() }))
    .use(({ next }) => next({ ctx: { extra: 1 } }))
    .query(({ ctx, input }) => ({ ctx, input }));
  const caller = t.createCallerFactory(t.router({ echo }))({ userId: "u1" });

  it("merges the inputs and extends the context as a spread would", async () => {
    const { ctx, input } = await caller.echo({ a: 1, b: 2 });
    expect(input).toEqual({ a: 1, b: 2 });
    expect(ctx).toEqual({ userId: "u1", extra: 1 });
  });

  it("keeps a JSON input's own __proto__ key as data, the prototype untouched", async () => {
    const raw = JSON.parse('{"a": 1, "b": 2, "__proto__": {"polluted": true}}') as { a: number; b: number };
    const { input } = await caller.echo(raw);
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype);
    expect(Object.hasOwn(input, "__proto__")).toBe(true);
    expect((input as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
