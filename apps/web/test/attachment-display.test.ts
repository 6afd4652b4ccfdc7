import { describe, expect, it } from "vitest";
import { formatSize, thumbnailSize } from "../src/room/attachment-sizes.ts";
import { declaredType } from "../src/room/attachment-upload.ts";

describe("declaredType", () => {
  it("declares the six allowed types as they are, any other text as plain text, and refuses the rest", () => {
    expect(
      ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"].map((type) =>
        declaredType({ type }),
      ),
    ).toEqual(["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"]);
    expect(declaredType({ type: "text/markdown" })).toBe("text/plain");
    expect(declaredType({ type: "" })).toBe("text/plain");
    expect(declaredType({ type: "text/html" })).toBeNull();
    expect(declaredType({ type: "image/svg+xml" })).toBeNull();
    expect(declaredType({ type: "application/zip" })).toBeNull();
  });
});

describe("formatSize", () => {
  it("counts in bytes below 1 KB and in binary units above, as file managers do", () => {
    expect(formatSize(0)).toBe("0 B");
    expect(formatSize(1023)).toBe("1023 B");
    expect(formatSize(1536)).toMatch(/^1[.,]5 KB$/);
    expect(formatSize(10 * 1024 * 1024)).toBe("10 MB");
  });
});

describe("thumbnailSize", () => {
  it("fits the image inside 240 × 240 keeping its ratio, and never enlarges a small one", () => {
    expect(thumbnailSize(640, 480)).toEqual({ width: 240, height: 180 });
    expect(thumbnailSize(480, 1920)).toEqual({ width: 60, height: 240 });
    expect(thumbnailSize(100, 50)).toEqual({ width: 100, height: 50 });
    expect(thumbnailSize(10_000, 1)).toEqual({ width: 240, height: 1 });
  });
});
