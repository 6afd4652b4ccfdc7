import { readdir, readFile, stat } from "node:fs/promises";
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

/**
 * The budget of the script every visitor loads: Vite's own warning line (500 kB). Pages few
 * people open (the admin area) are split off with a dynamic import to stay under it.
 */
const MAIN_SCRIPT_BUDGET_BYTES = 500_000;

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

  it(`keeps the script every page loads under ${MAIN_SCRIPT_BUDGET_BYTES / 1000} kB`, async () => {
    requireBuiltWebApp();
    const html = await readFile(new URL("../dist/index.html", import.meta.url), "utf8");
    const main = /<script[^>]+src="\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    if (!main) throw new Error("index.html names no script");
    const { size } = await stat(new URL(`../dist/${main}`, import.meta.url));
    expect(size).toBeLessThan(MAIN_SCRIPT_BUDGET_BYTES);
  });
});
