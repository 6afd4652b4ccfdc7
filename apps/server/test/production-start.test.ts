import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParleyClient } from "@parley/client";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { serverDir, spawnServer } from "@parley/testing/server-process";
import { afterAll, describe, expect, inject, it } from "vitest";

const dataDir = mkdtempSync(join(tmpdir(), "parley-production-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Whether dist/ holds the code cache a start of the current build wrote. */
function startedCacheOfThisBuild(): boolean {
  const id = readFileSync(join(serverDir, "dist", "main.cjs"), "utf8")
    .split("\n", 1)[0]
    ?.split(" ")[2];
  return existsSync(join(serverDir, "dist", `main.cjs.${id}.started.v8cache`));
}

describe("the production entry (pnpm start: the bundle in apps/server/dist)", () => {
  it("keeps the packages start does not load out of main.cjs, each required from dist/vendor where main.cjs runs", () => {
    const main = join(serverDir, "dist", "main.cjs");
    const vendors = new Set(readFileSync(main, "latin1").match(/\.\/vendor\/[\w.-]+\.cjs/g));
    expect([...vendors].sort()).toEqual([
      "./vendor/aws-sdk-client-s3.cjs",
      "./vendor/file-type.cjs",
      "./vendor/iconv-lite-0.4.24-encodings.cjs",
      "./vendor/iconv-lite-0.7.3-encodings.cjs",
      "./vendor/ioredis.cjs",
      "./vendor/nodemailer.cjs",
    ]);
    // The bundle's require is made for main.cjs (cached-bundle.mjs): the same resolution as here.
    const load = createRequire(main);
    expect(typeof load("./vendor/aws-sdk-client-s3.cjs").S3Client).toBe("function");
    expect(typeof load("./vendor/file-type.cjs").fileTypeFromBuffer).toBe("function");
    expect(typeof load("./vendor/ioredis.cjs").Redis).toBe("function");
    expect(typeof load("./vendor/nodemailer.cjs").createTransport).toBe("function");
    expect(load("./vendor/iconv-lite-0.7.3-encodings.cjs")).toHaveProperty("utf16");
  });

  it("starts on a new PGlite directory from the template, answers /readyz, and stops on SIGTERM", async () => {
    // spawnServer with `bundle`: `node start.mjs main`, what `pnpm start` runs (it builds dist/ first
    // when it is missing or stale, then runs dist/main.cjs in the same process).
    const server = await spawnServer({ DATA_DIR: join(dataDir, "data") }, { bundle: true });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(existsSync(join(serverDir, "dist", "main.cjs"))).toBe(true);
      // The data directory started as a copy of the build's template, with the tables in it.
      expect(existsSync(join(dataDir, "data", "pgdata", "PG_VERSION"))).toBe(true);
      const registered = await createParleyClient({ url: server.url }).auth.register.mutate({
        email: uniqueEmail(),
        password: GOOD_PASSWORD,
        displayName: "From the bundle",
      });
      expect(registered.user.displayName).toBe("From the bundle");
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("starts on a new PostgreSQL database (migrations applied) and again on the migrated one, from the first start's code cache", async () => {
    const database = await createFreshDatabase(inject("databaseUrl"));
    try {
      for (let start = 0; start < 2; start++) {
        const server = await spawnServer({ DATABASE_URL: database.url }, { bundle: true });
        try {
          expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
          expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
          // The first start leaves the code it compiled for the next (cached-bundle.mjs).
          await expect.poll(startedCacheOfThisBuild).toBe(true);
        } finally {
          expect(await server.stop()).toBe(0);
        }
      }
    } finally {
      await database.drop();
    }
  });
});
