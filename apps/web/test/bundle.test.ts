import { readdir, readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { requireBuiltWebApp } from "./support/browser.ts";

// apps/web imports @parley/api for types and its zod schemas only; a value import of the
// server's code would drag the database driver, sessions and hashing into the page.
const SERVER_ONLY = [
  "drizzle-orm",
  "lucia",
  "argon2",
  "pg-pool",
  "nodemailer",
  "ioredis",
  "pino",
  "node:crypto",
];

describe("the web bundle", () => {
  it("carries no server code", async () => {
    requireBuiltWebApp();
    const assets = new URL("../dist/assets/", import.meta.url);
    const scripts = (await readdir(assets)).filter((name) => name.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(0);
    for (const name of scripts) {
      const code = await readFile(new URL(name, assets), "utf8");
      expect(
        SERVER_ONLY.filter((marker) => code.includes(marker)),
        name,
      ).toEqual([]);
    }
  });
});
