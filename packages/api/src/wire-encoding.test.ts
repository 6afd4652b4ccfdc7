import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { markPlainJson, wireTransformer } from "./wire-encoding.ts";

/** What tRPC's ws adapter hands the encoder for one tracked subscription value. */
function envelope(
  subscriptionId: number | string,
  trackedId: string,
  data: unknown,
  transformer = wireTransformer,
) {
  return {
    id: subscriptionId,
    jsonrpc: "2.0" as const,
    result: { type: "data", id: trackedId, data: transformer.output.serialize({ id: trackedId, data }) },
  };
}

describe("wire encoding", () => {
  const event = markPlainJson({
    type: "message.created",
    seq: 7,
    message: { content: 'quote " and \u2028 <b>' },
  });

  it("gives a wsLink client (superjson) the same value as the plain superjson path", () => {
    const fast = JSON.parse(JSON.stringify(envelope(1, "7", event)));
    const reference = { type: "message.created", seq: 7, message: { content: 'quote " and \u2028 <b>' } };
    const slow = JSON.parse(
      JSON.stringify(envelope(1, "7", reference, { ...wireTransformer, output: superjson })),
    );
    expect(superjson.deserialize(fast.result.data)).toEqual(superjson.deserialize(slow.result.data));
  });

  it("leaves unmarked values and Dates to superjson", () => {
    const withDate = { at: new Date(0) };
    const serialized = wireTransformer.output.serialize({ id: "1", data: withDate });
    expect(superjson.deserialize(serialized as Parameters<typeof superjson.deserialize>[0])).toEqual({
      id: "1",
      data: withDate,
    });
  });

  it("sends a marked procedure output as `{ json }`, which is superjson's own form of plain JSON", () => {
    const page = {
      items: [
        {
          id: "m1",
          seq: 3,
          content: null,
          createdAt: "2026-01-01T00:00:00.000Z",
          reactions: [{ emoji: "👍", count: 2, mine: true }],
        },
      ],
      hasMore: false,
    };
    const marked = markPlainJson(structuredClone(page));
    const fast = wireTransformer.output.serialize(marked);
    expect(fast).toEqual({ json: page });
    expect((fast as { json: unknown }).json).toBe(marked);
    expect(fast).toEqual(superjson.serialize(page));
    expect(JSON.stringify(fast)).toBe(JSON.stringify(superjson.serialize(page)));
  });

  it("still walks unmarked outputs", () => {
    const withDate = { createdAt: new Date(0) };
    expect(wireTransformer.output.serialize(withDate)).toEqual(superjson.serialize(withDate));
  });
});
