import { describe, expect, it } from "vitest";
import {
  attachmentIds,
  createAttachmentInput,
  FILE_NAME_MAX_LENGTH,
  sanitiseFileName,
} from "./attachments.ts";

describe("file names", () => {
  it("keep only the last segment of a path, with / or \\", () => {
    expect(sanitiseFileName("../../etc/passwd")).toBe("passwd");
    expect(sanitiseFileName("C:\\Users\\ada\\report.pdf")).toBe("report.pdf");
  });

  it("lose control characters and bidi overrides, so a name cannot pretend to another extension", () => {
    expect(sanitiseFileName("invoice\u202Egpj.exe")).toBe("invoicegpj.exe");
    expect(sanitiseFileName("a\u0000b\u001Fc\u0085d\u2066e.txt")).toBe("abcde.txt");
  });

  it('are NFC and lose dots and spaces at the ends; nothing left is "file"', () => {
    expect(sanitiseFileName("Re\u0301sume\u0301.pdf")).toBe("Résumé.pdf");
    expect(sanitiseFileName("  ..hidden.txt. ")).toBe("hidden.txt");
    expect(sanitiseFileName("...")).toBe("file");
    expect(sanitiseFileName("dir/")).toBe("file");
  });

  it("are at most 200 characters, cut before the extension, which stays", () => {
    const name = sanitiseFileName(`${"é".repeat(300)}.pdf`);
    expect(Array.from(name)).toHaveLength(FILE_NAME_MAX_LENGTH);
    expect(name.endsWith("é.pdf")).toBe(true);
  });

  it("are sanitised by the input schema", () => {
    const input = createAttachmentInput.parse({
      roomId: "7c9e6679-7425-40de-944b-e07dc1f90ae7",
      name: "/tmp/x/\u202Ecat.png",
      size: 10,
      contentType: "image/png",
    });
    expect(input.name).toBe("cat.png");
  });
});

describe("attachment ids on a send", () => {
  it("are at most 10, each once", () => {
    const id = (n: number) => `7c9e6679-7425-40de-944b-${String(n).padStart(12, "0")}`;
    expect(attachmentIds.safeParse(Array.from({ length: 10 }, (_, n) => id(n))).success).toBe(true);
    expect(attachmentIds.safeParse(Array.from({ length: 11 }, (_, n) => id(n))).success).toBe(false);
    expect(attachmentIds.safeParse([id(1), id(1)]).success).toBe(false);
  });
});
