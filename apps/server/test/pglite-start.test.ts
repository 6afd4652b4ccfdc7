import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParleyClient } from "@parley/client";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { spawnServer } from "@parley/testing/server-process";
import { afterAll, describe, expect, it } from "vitest";

const dataDir = mkdtempSync(join(tmpdir(), "parley-pglite-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the default start on embedded PGlite", () => {
  it("answers /healthz and /readyz, and keeps its data across a restart", async () => {
    const email = uniqueEmail();
    const first = await spawnServer({ DATA_DIR: dataDir });
    try {
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
      await createParleyClient({ url: first.url }).auth.register.mutate({
        email,
        password: GOOD_PASSWORD,
        displayName: "Persisted",
      });
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await spawnServer({ DATA_DIR: dataDir });
    try {
      const login = await createParleyClient({ url: second.url }).auth.login.mutate({
        email,
        password: GOOD_PASSWORD,
      });
      expect(login.user.displayName).toBe("Persisted");
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it("refuses to start a second process on the same data directory, with a clear message", async () => {
    const first = await spawnServer({ DATA_DIR: dataDir });
    try {
      const attempt = spawnServer({ DATA_DIR: dataDir });
      await expect(attempt).rejects.toThrow(/in use by another Parley process/);
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  it("refuses to start with an invalid configuration, naming the variable", async () => {
    await expect(spawnServer({ DATA_DIR: dataDir, PORT: "not-a-port" })).rejects.toThrow(/PORT/);
  });
});
