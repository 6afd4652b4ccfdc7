import { createHash, randomBytes } from "node:crypto";

/** 256 random bits, URL-safe: for links in emails. */
export function newEmailToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Email tokens are stored as this hash only. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
