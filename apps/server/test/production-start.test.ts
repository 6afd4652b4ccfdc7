import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createParleyClient } from "@parley/client";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { afterAll, describe, expect, inject, it } from "vitest";

const serverDir = fileURLToPath(new URL("..", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "parley-production-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * `node start.mjs main`: what `pnpm start` runs (it builds dist/ first when it is missing or stale,
 * then runs dist/main.mjs in the same process), resolving once it logs that it listens.
 */
function startProduction(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ["start.mjs", "main"], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"Parley is listening"/.exec(output);
      if (match?.[1]) {
        child.stdout.off("data", onData);
        resolve({
          url: match[1],
          child,
          async stop() {
            if (child.exitCode === null) child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) =>
      reject(new Error(`start.mjs exited with ${code} before listening:\n${output}`)),
    );
  });
}

describe("the production entry (pnpm start: the bundle in apps/server/dist)", () => {
  it("starts on a new PGlite directory from the template, answers /readyz, and stops on SIGTERM", async () => {
    const server = await startProduction({ DATA_DIR: join(dataDir, "data") });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(existsSync(join(serverDir, "dist", "main.mjs"))).toBe(true);
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

  it("starts on a new PostgreSQL database (migrations applied) and again on the migrated one", async () => {
    const database = await createFreshDatabase(inject("databaseUrl"));
    try {
      for (let start = 0; start < 2; start++) {
        const server = await startProduction({ DATABASE_URL: database.url });
        try {
          expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
          expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        } finally {
          expect(await server.stop()).toBe(0);
        }
      }
    } finally {
      await database.drop();
    }
  });
});
