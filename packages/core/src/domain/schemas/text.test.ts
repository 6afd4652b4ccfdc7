import { describe, expect, it } from "vitest";
import { messageContent } from "./chat.ts";
import { isWellFormedText, LONE_SURROGATE_MESSAGE, text } from "./text.ts";

const messagesOf = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.error?.issues.map((issue) => issue.message) ?? [];

describe("the shared text schema", () => {
  it("refuses lone surrogates, high or low, alone or reversed", () => {
    for (const value of ["x\udfff", "\ud800", "\udc00\ud800", `${"a".repeat(3000)}\udbff`]) {
      expect(messagesOf(text().safeParse(value)), JSON.stringify(value)).toEqual([LONE_SURROGATE_MESSAGE]);
      expect(messagesOf(messageContent.safeParse(value))).toContain(LONE_SURROGATE_MESSAGE);
    }
  });

  it("accepts paired surrogates: astral characters are text", () => {
    expect(text().parse("𝕏 😀 👨‍👩‍👧")).toBe("𝕏 😀 👨‍👩‍👧");
  });

  it("judges alike without String.prototype.isWellFormed (browsers before 2023)", () => {
    const withoutIsWellFormed = (value: string) =>
      Object.assign(new String(value), { isWellFormed: undefined }) as unknown as string;
    for (const value of ["x\udfff", "\ud800", "\udc00\ud800", "😀", "plain", ""]) {
      expect(isWellFormedText(withoutIsWellFormed(value)), JSON.stringify(value)).toBe(value.isWellFormed());
    }
  });
});
