import { describe, expect, it } from "vitest";
import { emoji } from "./chat.ts";

describe("emoji", () => {
  it("takes one emoji, modifiers and joiners included", () => {
    for (const value of ["👍", "👍🏽", "❤️", "👨‍👩‍👧", "🏳️‍🌈"])
      expect(emoji.safeParse(value).success, value).toBe(true);
    for (const value of ["👍👍", "a", ":)", ""]) expect(emoji.safeParse(value).success, value).toBe(false);
  });

  it("refuses a 1 MB value by its length alone (segmenting it exhausted the server's heap)", () => {
    const started = performance.now();
    const result = emoji.safeParse("a".repeat(1_000_000));
    expect(result.error?.issues.map((issue) => issue.message)).toEqual(["Is not a single emoji"]);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
