import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchContext } from "../context.ts";
import { createFreshDatabase } from "../database.ts";
import { sleep } from "../load.ts";
import { type ServerKind, spawnServer } from "../server-process.ts";
import { median, round } from "../stats.ts";

export interface ColdStartResult {
  server: string;
  database: "PostgreSQL" | "PGlite";
  /** Milliseconds from spawn to the first 200 from /readyz, each repeat. */
  runsMs: number[];
  medianMs: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function timeToReady(
  kind: ServerKind,
  config: { databaseUrl?: string; dataDir?: string },
): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const server = spawnServer(kind, { port, ...config });
  server.catch(() => {});
  const deadline = started + 60_000;
  let readyAt = Number.NaN;
  while (performance.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) {
      readyAt = performance.now();
      break;
    }
    await sleep(10);
  }
  await (await server).stop();
  return readyAt - started;
}

/**
 * Workload 5: spawn to the first 200 from /readyz, on a database that has never seen the server
 * (so Parley runs its migrations; the peers create their one table). All run through tsx.
 */
export async function runColdStart(ctx: BenchContext): Promise<ColdStartResult[]> {
  const cases: { label: string; kind: ServerKind; database: "PostgreSQL" | "PGlite" }[] = [
    { label: "Parley", kind: "parley", database: "PostgreSQL" },
    { label: "Parley", kind: "parley", database: "PGlite" },
    { label: "Socket.IO peer", kind: "socketio", database: "PostgreSQL" },
    { label: "Floor (ws + pg)", kind: "floor", database: "PostgreSQL" },
  ];
  const results: ColdStartResult[] = [];
  let n = 0;
  for (const c of cases) {
    const runs: number[] = [];
    for (let r = 0; r < ctx.sizes.coldStartRepeats; r++) {
      if (c.database === "PGlite") {
        const dir = await mkdtemp(join(tmpdir(), "parley-bench-pglite-"));
        try {
          runs.push(await timeToReady(c.kind, { dataDir: join(dir, "data") }));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      } else {
        const url = await createFreshDatabase(ctx.db, `cold_${process.pid}_${n++}`);
        runs.push(await timeToReady(c.kind, { databaseUrl: url }));
      }
    }
    const result = {
      server: c.label,
      database: c.database,
      runsMs: runs.map((x) => round(x, 0)),
      medianMs: round(median(runs), 0),
    };
    ctx.log(`  ${c.label} on ${c.database}: ${result.runsMs.join(", ")} ms to /readyz`);
    results.push(result);
  }
  return results;
}
