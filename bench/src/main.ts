import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { bundleServers } from "./bundles.ts";
import { type BenchContext, fullSizes, nextRun, quickSizes, retryIfDisturbed } from "./context.ts";
import { seed, startBenchDatabase } from "./database.ts";
import { heapPoint } from "./heap.ts";
import { perfManyRooms, perfMissing } from "./perf-profile.ts";
import { profileParley, profileParleyHistory, profileParleyManyRooms } from "./profile.ts";
import { type BenchResults, markdown, type PerServer } from "./report.ts";
import { type ServerKind, type ServerProcess, spawnServer, waitUntilIdle } from "./server-process.ts";
import { type Target, targets } from "./targets.ts";
import { tcpdumpMissing, wireManyRooms } from "./wire-trace.ts";
import { runColdStart } from "./workloads/cold-start.ts";
import { type FanoutResult, runFanout } from "./workloads/fanout.ts";
import { type HistoryResult, runHistory } from "./workloads/history.ts";
import { runIdle } from "./workloads/idle.ts";
import { type ManyRoomsResult, runManyRooms } from "./workloads/many-rooms.ts";
import { runReconnectStorm } from "./workloads/reconnect-storm.ts";
import { runScaleOut, scaleOutConfigs } from "./workloads/scale-out.ts";
import { runSlowConsumer } from "./workloads/slow-consumer.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onlyArg = args.find((a) => a.startsWith("--only="));
const only = onlyArg ? new Set(onlyArg.slice("--only=".length).split(",").map(Number)) : null;
const repeatsArg = args.find((a) => a.startsWith("--repeats="));
const repeats = repeatsArg ? Math.max(1, Number(repeatsArg.slice("--repeats=".length)) || 1) : 3;
const serversArg = args.find((a) => a.startsWith("--servers="));
const onlyServers = serversArg ? new Set(serversArg.slice("--servers=".length).split(",")) : null;
const profileArg = args.find(
  (a) => a.startsWith("--profile") || a.startsWith("--perf-many-rooms") || a.startsWith("--wire-many-rooms"),
);
// The Node binary every server runs on (bench/run.sh passes Node 22's; default: this one).
const nodeArg = args.find((a) => a.startsWith("--node="))?.slice("--node=".length);
// `--heap`: each server's memory after two full GCs before workload 1 and after 1, 1b and 2 (one
// process), and during workload 7's phase; `--heap=snapshots` also writes heap snapshots before 1
// and after 1b (every socket of 1b closed), and at the start and end of 7's phase; `--heap=live`
// forces no GC: workload 2 then finds what 1b left to collect, and logs its GC time (heap.ts).
const heapArg = args.find((a) => a === "--heap" || a.startsWith("--heap="));
const wanted = (n: number) => !profileArg && (!only || only.has(n));
const chosen = targets.filter((t) => !onlyServers || onlyServers.has(t.kind));

const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const started = performance.now();
const log = (line: string) => {
  process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
};

/**
 * Wall seconds per workload, printed at the end and kept in the JSON: the 15-minute budget of a
 * full run is checked (and trimmed) from these, not from one total.
 */
const workloadSeconds: Record<string, number> = {};
async function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
  const from = performance.now();
  try {
    return await run();
  } finally {
    workloadSeconds[name] = (workloadSeconds[name] ?? 0) + (performance.now() - from) / 1000;
  }
}

function affinity(): string {
  const status = readFileSync("/proc/self/status", "utf8");
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? "?";
}

/**
 * Runs a phase `repeats` times, the servers interleaved (Parley, peer, floor, Parley, …): a slow
 * minute on the shared machine then lands on one repeat of every server, not on one server's
 * three, and the per-repeat ratios pair figures taken minutes apart at most.
 */
async function perServer<T>(
  name: string,
  run: (target: Target, repeat: number) => Promise<T>,
): Promise<PerServer<T>> {
  const out: PerServer<T> = {};
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const target of chosen) {
      const into = out[target.kind] ?? [];
      out[target.kind] = into;
      try {
        into.push(await run(target, repeat));
      } catch (error) {
        log(
          `  ${target.label} ${name} #${repeat + 1} FAILED: ${error instanceof Error ? error.stack : String(error)}`,
        );
        into.push({ error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return out;
}

async function withServer<T>(
  ctx: BenchContext,
  kind: ServerKind,
  use: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const server = await spawnServer(kind, { port: 0, databaseUrl: ctx.db.url }, { node: ctx.node });
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
}

// `--render`: rewrite the markdown from the last JSON (after a change to the report's layout).
if (args.includes("--render")) {
  const name = quick ? "quick" : "latest";
  const saved = JSON.parse(readFileSync(`${resultsDir}${name}.json`, "utf8"), (_k, v) =>
    v === "Infinity" ? Number.POSITIVE_INFINITY : v === "NaN" ? Number.NaN : v,
  ) as BenchResults;
  // Results saved before --repeats hold one value per server, not a list of repeats.
  for (const key of [
    "fanout",
    "fanoutLarge",
    "manyRooms",
    "history",
    "idle",
    "storm",
    "slowConsumer",
  ] as const) {
    const source = (saved[key] ?? {}) as Record<string, unknown>;
    for (const [kind, value] of Object.entries(source)) if (!Array.isArray(value)) source[kind] = [value];
    (saved as unknown as Record<string, unknown>)[key] = source;
  }
  saved.meta.repeats ??= 1;
  writeFileSync(`${resultsDir}${name}.md`, markdown(saved));
  process.stdout.write(`${markdown(saved)}\n`);
  process.exit(0);
}

const sizes = quick ? quickSizes : fullSizes;
// Workload 1b holds 5,000 sockets in this process and as many in the server (which inherits the
// limit): below that, connections fail with EMFILE halfway through the phase.
const openFiles = Number(/Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? 0);
const filesNeeded = sizes.fanoutLargeSubscribers + 500;
if (openFiles < filesNeeded) {
  process.stderr.write(
    `The open-file limit is ${openFiles}; workload 1b needs ${filesNeeded} (run \`ulimit -n ${filesNeeded}\` or more first).\n`,
  );
  process.exit(1);
}
// Before PostgreSQL and the bundles: a missing tool is one line, not a stack half a minute in.
const missingTool = profileArg?.startsWith("--perf-many-rooms")
  ? perfMissing()
  : profileArg?.startsWith("--wire-many-rooms")
    ? tcpdumpMissing()
    : null;
if (missingTool) {
  process.stderr.write(`${missingTool}\n`);
  process.exit(1);
}
log(
  `Parley bench${quick ? " --quick" : ""}: load generator on CPU ${affinity()} (pid ${process.pid}), servers on CPU 0, ${cpus().length} cores`,
);
if (affinity() !== "1")
  log("warning: the load generator is not pinned to CPU 1: run it through `pnpm bench`");

// Every server runs from an esbuild bundle, as `pnpm start` runs Parley (bundles.ts).
const db = await timed("setup (bundles, PostgreSQL)", async () => {
  await bundleServers();
  return startBenchDatabase();
});
// An interrupted run stops its PostgreSQL too (it would outlive the bench otherwise).
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void db.close().finally(() => process.exit(130)));
const results: BenchResults = {
  meta: {
    startedAt: new Date().toISOString(),
    wallSeconds: 0,
    workloadSeconds,
    quick,
    repeats,
    node: process.version,
    serverNode: nodeArg ? execFileSync(nodeArg, ["--version"], { encoding: "utf8" }).trim() : process.version,
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    pinning:
      "Each server runs from an esbuild bundle (as `pnpm start` runs Parley) in its own process on CPU 0 (taskset); the load generator and PostgreSQL 15 (fsync off) on CPU 1.",
    subscriberClients:
      "Subscribers speak each server's wire protocol on raw sockets (a handful per workload go through @parley/client / socket.io-client instead). In the fan-out workloads (1, 1b, 8) and the slow consumer (7) one subscriber in 20 reads each frame's marker and keeps its latency (percentiles are over those); the other 19 only count frames, on a lean WebSocket reader (bench/src/clients/lean-socket.ts), so that the load generator costs less per delivery than the servers it measures. The generator runs with a fixed 64 MB young generation, no incremental marking and no memory reducer, and collects its garbage before each phase, so that its own GC does not fall inside one (each phase's line counts any that did).",
    latency:
      "Latency = receive time − intended send time (open loop), every delivery kept, exact percentiles; undelivered messages count as infinitely late.",
  },
  fanout: {},
  fanoutLarge: {},
  manyRooms: {},
  history: {},
  idle: {},
  coldStart: [],
  storm: {},
  slowConsumer: {},
};

try {
  const layout = await timed("setup (bundles, PostgreSQL)", () =>
    seed(db, {
      subscribers: Math.max(
        sizes.idleSockets,
        sizes.stormSubscribers,
        sizes.fanoutSubscribers,
        sizes.fanoutLargeSubscribers,
      ),
      senders: 200,
      fanoutMembers: Math.max(sizes.fanoutSubscribers, sizes.fanoutLargeSubscribers, sizes.slowSubscribers),
      stormMembers: sizes.stormSubscribers,
      manyRooms: sizes.manyRooms,
      manyRoomSubscribers: sizes.manyRoomSubscribers,
      manyRoomSenders: sizes.manyRoomSenders,
      idleRooms: 50,
      historyMessages: 2_000,
    }),
  );
  const ctx: BenchContext = {
    quick,
    repeats,
    sizes,
    db,
    layout,
    log,
    newRun: nextRun,
    node: nodeArg,
    heap:
      heapArg === undefined
        ? undefined
        : heapArg === "--heap=snapshots"
          ? "snapshots"
          : heapArg === "--heap=live"
            ? "live"
            : "figures",
  };
  log(`PostgreSQL on ${db.url}, ${layout.subscribers + layout.senders} users seeded`);

  if (profileArg) {
    const rates = profileArg.includes("=") ? profileArg.split("=")[1]?.split(",").map(Number) : undefined;
    const dir = `${resultsDir}profile.tmp`;
    // The first whose flag the argument starts with (--profile-history before --profile).
    const modes: [string, () => Promise<string>][] = [
      ["--perf-many-rooms", () => perfManyRooms(ctx, `${resultsDir}perf.tmp`, rates?.[0])],
      ["--wire-many-rooms", () => wireManyRooms(ctx, `${resultsDir}wire.tmp`, rates?.[0])],
      ["--profile-history", () => profileParleyHistory(ctx, dir)],
      ["--profile-many-rooms", () => profileParleyManyRooms(ctx, dir, rates?.[0])],
      ["--profile-large", () => profileParley(ctx, rates ?? [4, 12], dir, sizes.fanoutLargeSubscribers)],
      ["--profile", () => profileParley(ctx, rates ?? [20, 40], dir)],
    ];
    const mode = modes.find(([flag]) => profileArg.startsWith(flag));
    const summary = mode ? await mode[1]() : "";
    writeFileSync(`${resultsDir}profile-summary.txt.tmp`, summary);
    process.stdout.write(`${summary}\n`);
    await db.close();
    process.exit(0);
  }

  if (wanted(1) || wanted(2) || wanted(3)) {
    log(
      `Workloads 1-3: fan-out (${sizes.fanoutSubscribers} and ${sizes.fanoutLargeSubscribers} subscribers), many rooms, history; one server process each, ${repeats} repeats interleaved`,
    );
    // A later repeat's ladder starts at 60% of the first repeat's ceiling for the same server and
    // room size (after the first rung, which every repeat measures): the rungs below it passed
    // with room to spare and cost a minute a server.
    const firstCeiling = new Map<string, number>();
    const ladder = async (
      target: Target,
      server: ServerProcess,
      subscribers: number,
      rates: number[],
      guess?: number,
    ) => {
      const key = `${target.kind}/${subscribers}`;
      const known = firstCeiling.get(key) ?? guess;
      return timed(subscribers === sizes.fanoutSubscribers ? "1 fan-out" : "1b fan-out", async () => {
        const result = await runFanout(ctx, target, server, {
          subscribers,
          rates,
          skipBelow: known === undefined ? undefined : known * 0.6,
        });
        if (known === undefined && result.best) firstCeiling.set(key, result.best.rate);
        await waitUntilIdle(server);
        return result;
      });
    };
    const perTarget = await timed("1-3 server starts and stops", () =>
      perServer("workloads 1-3", (target, repeat) =>
        withServer(ctx, target.kind, async (server) => {
          await heapPoint(ctx, server, `before-1-${repeat + 1}`, { snapshot: true });
          const fanout = wanted(1)
            ? await ladder(target, server, sizes.fanoutSubscribers, sizes.fanoutRates)
            : undefined;
          if (wanted(1)) await heapPoint(ctx, server, `after-1-${repeat + 1}`);
          // Deliveries per second, not messages, are what a server sustains: ten times the
          // subscribers, about a tenth of the rate. The first repeat starts its ladder there too.
          const fromSmall = fanout?.best
            ? (fanout.best.rate * sizes.fanoutSubscribers) / sizes.fanoutLargeSubscribers
            : undefined;
          const fanoutLarge = wanted(1)
            ? await ladder(target, server, sizes.fanoutLargeSubscribers, sizes.fanoutLargeRates, fromSmall)
            : undefined;
          if (wanted(1)) await heapPoint(ctx, server, `after-1b-${repeat + 1}`, { snapshot: true });
          const manyRooms = wanted(2)
            ? await timed("2 many rooms", async () => {
                const result = await retryIfDisturbed(ctx, `${target.label} many rooms`, () =>
                  runManyRooms(ctx, target, server),
                );
                await waitUntilIdle(server);
                return result;
              })
            : undefined;
          if (wanted(2)) await heapPoint(ctx, server, `after-2-${repeat + 1}`);
          const history = wanted(3)
            ? await timed("3 history", () =>
                retryIfDisturbed(ctx, `${target.label} history`, async () => {
                  await waitUntilIdle(server);
                  return runHistory(ctx, target, server);
                }),
              )
            : undefined;
          return { fanout, fanoutLarge, manyRooms, history };
        }),
      ),
    );
    for (const [kind, entries] of Object.entries(perTarget) as [ServerKind, unknown[]][]) {
      for (const value of entries) {
        const push = <T>(into: PerServer<T>, v: T | { error: string } | undefined) => {
          if (v === undefined) return;
          const list = into[kind] ?? [];
          list.push(v);
          into[kind] = list;
        };
        if (value && typeof value === "object" && "error" in value) {
          const failed = value as { error: string };
          if (wanted(1)) push(results.fanout, failed);
          if (wanted(1)) push(results.fanoutLarge, failed);
          if (wanted(2)) push(results.manyRooms, failed);
          if (wanted(3)) push(results.history, failed);
          continue;
        }
        const v = value as {
          fanout?: FanoutResult;
          fanoutLarge?: FanoutResult;
          manyRooms?: ManyRoomsResult;
          history?: HistoryResult;
        };
        push(results.fanout, v.fanout);
        push(results.fanoutLarge, v.fanoutLarge);
        push(results.manyRooms, v.manyRooms);
        push(results.history, v.history);
      }
    }
  }
  if (wanted(4)) {
    log(`Workload 4: ${sizes.idleSockets} idle subscribed sockets`);
    results.idle = await timed("4 idle", () =>
      perServer("idle", (t) => withServer(ctx, t.kind, (s) => runIdle(ctx, t, s))),
    );
  }
  if (wanted(5)) {
    log("Workload 5: cold start to /readyz");
    results.coldStart = await timed("5 cold start", () => runColdStart(ctx));
  }
  if (wanted(6)) {
    log(`Workload 6: reconnect storm, ${sizes.stormSubscribers} subscribers`);
    results.storm = await timed("6 reconnect storm", () =>
      perServer("reconnect storm", (t) => runReconnectStorm(ctx, t)),
    );
  }
  if (wanted(7)) {
    log(`Workload 7: slow consumer, ${sizes.slowMs / 1000} s`);
    results.slowConsumer = await timed("7 slow consumer", () =>
      perServer("slow consumer", (t) => withServer(ctx, t.kind, (s) => runSlowConsumer(ctx, t, s))),
    );
  }
  if (wanted(8) && (!onlyServers || onlyServers.has("parley"))) {
    log(
      "Workload 8: scale-out, one Parley instance (in-process bus, then Redis) against two on one Redis, one room and many rooms",
    );
    results.scaleOut = [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const config of scaleOutConfigs) {
        try {
          results.scaleOut.push(await timed("8 scale-out", () => runScaleOut(ctx, config)));
        } catch (error) {
          log(
            `  scale-out, ${config.instances} instance(s) on ${config.bus} #${repeat + 1} FAILED: ${error instanceof Error ? error.stack : String(error)}`,
          );
          results.scaleOut.push({ error: error instanceof Error ? error.message : String(error) });
        }
      }
    }
  }
} finally {
  await db.close();
}

results.meta.wallSeconds = Math.round((performance.now() - started) / 1000);
// The 1-3 block's own bucket holds the whole block: what is left once its workloads are taken out
// is the servers' starts and stops.
const block = workloadSeconds["1-3 server starts and stops"];
if (block !== undefined)
  workloadSeconds["1-3 server starts and stops"] =
    block -
    ["1 fan-out", "1b fan-out", "2 many rooms", "3 history"].reduce(
      (sum, k) => sum + (workloadSeconds[k] ?? 0),
      0,
    );
for (const [k, v] of Object.entries(workloadSeconds)) workloadSeconds[k] = Math.round(v);
const name = quick ? "quick" : "latest";
const json = `${JSON.stringify(results, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
// Written beside, then renamed: an interrupted run never leaves half a file.
writeFileSync(`${resultsDir}${name}.json.tmp`, json);
renameSync(`${resultsDir}${name}.json.tmp`, `${resultsDir}${name}.json`);
const md = markdown(results);
writeFileSync(`${resultsDir}${name}.md`, md);
process.stdout.write(`\n${md}\n`);
log(
  `wall time per workload: ${Object.entries(workloadSeconds)
    .map(([k, v]) => `${k} ${v} s`)
    .join(", ")}`,
);
log(`done in ${results.meta.wallSeconds} s: bench/results/${name}.json, bench/results/${name}.md`);
process.exit(0);
