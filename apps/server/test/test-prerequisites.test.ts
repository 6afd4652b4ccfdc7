import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `pnpm test` runs .ci/test-prerequisites.mjs before any suite: a machine without what the suites
// need learns it in a second, in one line, instead of minutes into the run.
const script = fileURLToPath(new URL("../../../.ci/test-prerequisites.mjs", import.meta.url));

function runPrerequisites(env: Record<string, string>) {
  return new Promise<{ code: number; stderr: string; ms: number }>((resolve) => {
    const started = performance.now();
    execFile(process.execPath, [script], { env, timeout: 30_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr, ms: performance.now() - started }),
    );
  });
}

describe("the test prerequisites check", () => {
  it("stops at once with one line naming what is missing and how to install it, when it cannot install", async () => {
    // No PATH: neither redis-server nor apt-get is found (PostgreSQL is found in /usr/lib/postgresql,
    // Chromium at /usr/bin/chromium, where the check looks for them by their full paths).
    const result = await runPrerequisites({ PATH: "/nonexistent" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^pnpm test: missing redis-server; cannot install them \(no apt-get on this machine\)\. As root: apt-get install -y --no-install-recommends redis-server\n$/,
    );
    expect(result.ms).toBeLessThan(5_000);
  });

  it("installs nothing when told never to, naming what is missing", async () => {
    const result = await runPrerequisites({ PATH: "/nonexistent", PARLEY_TEST_INSTALL: "never" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot install them (PARLEY_TEST_INSTALL=never)");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("says in one line that everything was found on this machine, which has it all", async () => {
    const result = await runPrerequisites({ PATH: process.env.PATH ?? "" });
    expect(result).toMatchObject({ code: 0 });
    expect(result.stderr).toMatch(/^pnpm test: .*redis-server, chromium, a font: found\n$/);
  });
});
