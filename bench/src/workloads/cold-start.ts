import { execFileSync, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@parley/testing/free-port";
import { bundleServers, peersDist } from "../bundles.ts";
import type { BenchContext } from "../context.ts";
import { createFreshDatabase } from "../database.ts";
import { sleep } from "../load.ts";
import { processCpuSeconds } from "../proc.ts";
import { median, round } from "../stats.ts";

export interface ColdStartResult {
  server: string;
  database: "PostgreSQL" | "PGlite";
  /** A second start on the database the first one left (migrated: the operator's everyday restart). */
  restart?: boolean;
  /** The Node binary's version, when `--node` chose one. */
  node?: string;
  /** What was spawned (after `taskset -c 0 node`). */
  command: string;
  /** Milliseconds from spawn to the first 200 from /readyz, each repeat. */
  runsMs: number[];
  medianMs: number;
  /**
   * The server's CPU milliseconds (all threads) at that first 200, each repeat: what the start
   * cost, which other processes on the machine change less than the wall time.
   */
  cpuMs?: number[];
  medianCpuMs?: number;
}

interface Timing {
  ms: number;
  cpuMs: number;
}

const benchDir = fileURLToPath(new URL("../..", import.meta.url));
const root = join(benchDir, "..");

interface Case {
  label: string;
  database: "PostgreSQL" | "PGlite";
  /** Node's arguments; `config` is the peers' JSON argument. */
  args: (config: { port: number; databaseUrl?: string; dataDir?: string }) => string[];
  /** Also timed a second time on the database its first start migrated (PostgreSQL only). */
  restart?: boolean;
  /** Parley reads its configuration from the environment, as `pnpm start` does. */
  env?: (config: { port: number; databaseUrl?: string; dataDir?: string }) => Record<string, string>;
}

const parleyEnv = (c: { port: number; databaseUrl?: string; dataDir?: string }) => ({
  PORT: String(c.port),
  HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
  ...(c.databaseUrl ? { DATABASE_URL: c.databaseUrl } : {}),
  ...(c.dataDir ? { DATA_DIR: c.dataDir } : {}),
});

async function timeToReady(
  node: string,
  kind: Case,
  config: { databaseUrl?: string; dataDir?: string },
  logFile: string,
): Promise<Timing> {
  const port = await freePort();
  const full = { port, ...config };
  const args = kind.args(full);
  const started = performance.now();
  const child = spawn("taskset", ["-c", "0", node, ...args], {
    cwd: root,
    // No PATH needed: spawn finds taskset on this process's PATH; the servers get only their config.
    env: { ...kind.env?.(full) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = started + 60_000;
  let readyAt = Number.NaN;
  let cpuMs = Number.NaN;
  while (performance.now() < deadline && child.exitCode === null) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) {
      readyAt = performance.now();
      // taskset execs node: the same process.
      cpuMs = child.pid ? processCpuSeconds(child.pid) * 1000 : Number.NaN;
      break;
    }
    await sleep(10);
  }
  // SIGTERM: Parley's main.ts and the peers' serveBench() close and exit on it.
  if (child.exitCode === null) child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
  return { ms: readyAt - started, cpuMs };
}

function summarise(runs: Timing[]) {
  const ms = runs.map((x) => x.ms);
  const cpu = runs.map((x) => x.cpuMs);
  return {
    runsMs: ms.map((x) => round(x, 0)),
    medianMs: round(median(ms), 0),
    cpuMs: cpu.map((x) => round(x, 0)),
    medianCpuMs: round(median(cpu), 0),
  };
}

/**
 * Workload 5: spawn to the first 200 from /readyz, on a database that has never seen the server
 * (so Parley runs its migrations; the peers create their one table). Every server runs as plain
 * `node` on a bundle, pinned to CPU 0:
 * - Parley: `node apps/server/start.mjs main`, exactly what `pnpm start` runs (the launcher checks
 *   that apps/server/dist is up to date, then runs the bundled main.ts in the same process). Its
 *   build (bundle, PGlite template and web app) is made before the timing, as `pnpm install &&
 *   pnpm start` would have made it on the first start.
 * - the peers: their entries bundled by the same esbuild with the same options.
 * Parley's source entry through tsx (what `pnpm start` ran before the production build, 2.8-3.4 s
 * on 2026-12-02) was timed too until then, for comparison with reports older than the build: 10 s
 * of every run's 15 minutes, for a row no target reads.
 */
export async function runColdStart(ctx: BenchContext): Promise<ColdStartResult[]> {
  // Not timed: the production build of Parley (up to date already: nothing to do) and the peers'.
  // On the Node that will start it: the build's fingerprint holds Node's version, and a start on
  // another version would rebuild the bundle inside the timing.
  const node = ctx.node ?? process.execPath;
  execFileSync(node, [join(root, "apps/server/build.mjs")], { stdio: "inherit" });
  // And the web app start.mjs serves: when any of its inputs changed since its last build (the
  // lockfile is one), the first start would build it in a child process, about 2 s of wall time
  // that the server's own CPU figure does not see (runs of 2,063 and 2,108 ms at 290 ms of CPU).
  execFileSync(node, [join(root, "apps/server/web-build.mjs")], { stdio: "inherit" });
  await bundleServers();
  const peer = (file: string) => (c: { port: number; databaseUrl?: string; dataDir?: string }) => [
    join(peersDist, file),
    JSON.stringify(c),
  ];
  const cases: Case[] = [
    {
      label: "Parley",
      database: "PostgreSQL",
      args: () => ["apps/server/start.mjs", "main"],
      env: parleyEnv,
      restart: true,
    },
    { label: "Parley", database: "PGlite", args: () => ["apps/server/start.mjs", "main"], env: parleyEnv },
    { label: "Socket.IO peer", database: "PostgreSQL", args: peer("socketio-peer.mjs"), restart: true },
    { label: "Floor (ws + pg)", database: "PostgreSQL", args: peer("floor.mjs"), restart: true },
  ];
  const nodeVersion = ctx.node ? execFileSync(node, ["--version"], { encoding: "utf8" }).trim() : undefined;
  const results: ColdStartResult[] = [];
  let n = 0;
  const logFile = `${benchDir}/results/server-cold-start.log.tmp`;
  const runsOf = cases.map((): Timing[] => []);
  // Each server's second start on the database its first start left: the everyday restart.
  const restartRunsOf = cases.map((): Timing[] => []);
  // Repeats outside, cases inside: each round times every server once, so a busy moment on the
  // machine falls on one round of each rather than on one server's every run.
  for (let r = 0; r < ctx.repeats * ctx.sizes.coldStartRepeats; r++) {
    for (const [i, c] of cases.entries()) {
      const runs = runsOf[i] ?? [];
      if (c.database === "PGlite") {
        const dir = await mkdtemp(join(tmpdir(), "parley-bench-pglite-"));
        try {
          runs.push(await timeToReady(node, c, { dataDir: join(dir, "data") }, logFile));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      } else {
        const url = await createFreshDatabase(ctx.db, `cold_${process.pid}_${n++}`);
        runs.push(await timeToReady(node, c, { databaseUrl: url }, logFile));
        if (c.restart) restartRunsOf[i]?.push(await timeToReady(node, c, { databaseUrl: url }, logFile));
      }
    }
  }
  for (const [i, c] of cases.entries()) {
    const runs = runsOf[i] ?? [];
    const command = c.args({ port: 0 })[0]?.startsWith(peersDist)
      ? `node bench/dist/${c.args({ port: 0 })[0]?.slice(peersDist.length + 1)} (esbuild bundle)`
      : `node ${c.args({ port: 0 }).join(" ")}`;
    const result = {
      server: c.label,
      database: c.database,
      node: nodeVersion,
      command,
      ...summarise(runs),
    };
    ctx.log(
      `  ${c.label} on ${c.database} (${command}): ${result.runsMs.join(", ")} ms to /readyz (CPU ${result.cpuMs.join(", ")} ms)`,
    );
    results.push(result);
    const restarts = restartRunsOf[i] ?? [];
    if (restarts.length === 0) continue;
    const restart = {
      ...result,
      restart: true,
      ...summarise(restarts),
    };
    ctx.log(
      `  ${c.label} on ${c.database}, restart on its migrated database: ${restart.runsMs.join(", ")} ms (CPU ${restart.cpuMs.join(", ")} ms)`,
    );
    results.push(restart);
  }
  return results;
}
