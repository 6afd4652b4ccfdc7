import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChatLoad } from "@parley/testing/chat-load";
import { spawnServer } from "@parley/testing/server-process";
import { describe, expect, it } from "vitest";

// Beside pglite-start.test.ts: PGlite's own recovery from a crash, which is the same on every
// Node version (.ci/run runs pglite-start again on Node 24, this on 22 only).
describe("the default start on embedded PGlite", () => {
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
