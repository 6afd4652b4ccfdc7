import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParleyClient } from "@parley/client";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { startChatLoad } from "@parley/testing/chat-load";
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

  it("killed with SIGKILL while sending: restarted on the same data directory, it starts cleanly and keeps every acknowledged message", async () => {
    const crashDir = mkdtempSync(join(tmpdir(), "parley-pglite-crash-"));
    const env = { DATA_DIR: crashDir, SEND_RATE_LIMIT: "100000/1", AUTH_RATE_LIMIT: "100000/1" };
    try {
      const first = await spawnServer(env);
      const load = await startChatLoad({
        url: first.url,
        senders: 5,
        subscribers: 0,
        paceMs: 0,
        sendTimeoutMs: 10_000,
      });
      try {
        await load.until((sends) => sends.filter((s) => s.outcome === "ok").length >= 200);
        // Mid-send: five sends are in flight whenever one is acknowledged.
        await first.kill();
      } finally {
        await load.stopSending();
        load.close();
      }
      const acknowledged = load.sends.filter((s) => s.outcome === "ok");
      const second = await spawnServer(env);
      try {
        expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
        expect(await load.ackedMissingFromHistory(second.url)).toEqual([]);
        console.log(
          `[pglite-sigkill] acknowledged ${acknowledged.length}, unanswered at the kill ${load.sends.length - acknowledged.length}`,
        );
        expect(second.output()).not.toMatch(/"level":(50|60)/);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      rmSync(crashDir, { recursive: true, force: true });
    }
  });
});
