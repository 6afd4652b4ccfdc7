import { DomainError } from "@parley/core";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { asZodError, toApiError } from "./errors.ts";

const thrown = (cause: unknown) => new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause });

describe("toApiError", () => {
  it("maps each kind of DomainError to its tRPC code and keeps the message the caller reads", () => {
    const codes = {
      "not-found": "NOT_FOUND",
      forbidden: "FORBIDDEN",
      conflict: "CONFLICT",
      invalid: "BAD_REQUEST",
      unauthenticated: "UNAUTHORIZED",
    } as const;
    for (const [kind, code] of Object.entries(codes)) {
      const mapped = toApiError(thrown(new DomainError(kind as keyof typeof codes, `refused: ${kind}`)));
      expect({ code: mapped.code, message: mapped.message }).toEqual({ code, message: `refused: ${kind}` });
    }
  });

  it("a DomainError naming a field keeps its kind's code and reads like a zod failure on that field", () => {
    const mapped = toApiError(
      thrown(
        new DomainError(
          "conflict",
          "This clientMessageId was already used in another room",
          "clientMessageId",
        ),
      ),
    );
    expect(mapped.code).toBe("CONFLICT");
    expect(asZodError(mapped.cause)?.issues).toMatchObject([
      { path: ["clientMessageId"], message: "This clientMessageId was already used in another room" },
    ]);
  });
});
