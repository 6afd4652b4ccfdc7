import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type BenchContext, cpuLine } from "./context.ts";
import { spawnServer } from "./server-process.ts";
import { type Target, targets } from "./targets.ts";
import { firstMissing } from "./tool-check.ts";
import { type ManyRoomsResult, runManyRooms } from "./workloads/many-rooms.ts";

/**
 * Where a sample's time went. --cpu-prof sees the JavaScript thread only and books a system
 * call's kernel time to the JS function that made it; perf samples every thread, user and kernel
 * alike, so two servers' costs can be compared part by part.
 */
const parts = [
  ["kernel", "kernel: system calls, TCP over loopback, wake-ups"],
  ["jit", "JIT-compiled JavaScript"],
  ["v8", "V8 interpreter, builtins, inline caches, runtime"],
  ["gc", "GC on the JavaScript thread"],
  ["compile", "V8 compilers on the JavaScript thread"],
  ["node", "Node and libuv (C++)"],
  ["other", "libc and the rest"],
  ["threads", "other threads (GC helpers, background compilers)"],
] as const;
type Part = (typeof parts)[number][0];

function partOf(mainThread: boolean, symbol: string, dso: string): Part {
  if (!mainThread) return "threads";
  if (dso.includes("kernel")) return "kernel";
  if (/perf-\d+\.map|\[JIT\]/.test(dso)) return "jit";
  if (/Scaveng|Heap::|Marking|Sweep|GCTracer|ConcurrentMarking/.test(symbol)) return "gc";
  if (/compiler::|[Mm]aglev|Compiler::|CompileLazy|Parser::/.test(symbol)) return "compile";
  if (/^(node::|uv_|uv__)/.test(symbol)) return "node";
  if (/^(Builtins_|v8::)/.test(symbol)) return "v8";
  return "other";
}

/**
 * What PostgreSQL's processes were doing, by the first of these frames found anywhere in a
 * sample's call chain (so a B-tree insert made by a foreign-key check counts as the check).
 */
const pgParts = [
  [
    "background",
    "background: WAL writer, autovacuum, checkpointer",
    /WalWriterMain|AutoVac|Checkpointer|BackgroundWriter|PgArch|ServerLoop|_Fork/,
  ],
  // SPI_execute_snapshot: what ri_PerformCheck runs its query through (its own frame is static).
  ["fk", "foreign-key checks (RI triggers)", /^RI_|ri_PerformCheck|SPI_execute_snapshot/],
  ["plpgsql", "PL/pgSQL triggers", /^plpgsql_/],
  [
    "search",
    "full-text index: to_tsvector, GIN insert",
    /to_tsvector|gininsert|ginInsert|ginHeapTupleFastInsert/,
  ],
  ["btree", "B-tree index inserts", /^btinsert|_bt_doinsert/],
  [
    "plan",
    "parse, analyse, plan",
    /raw_parser|parse_analyze|pg_analyze_and_rewrite|pg_plan_quer|GetCachedPlan|RevalidateCachedQuery/,
  ],
  // ExecutorFinish runs what the statement's result does not read: Parley's send writes its
  // room_events row (a data-modifying CTE nothing selects from) there, after the AFTER triggers' queue.
  ["finish", "executor finish: unread CTE writes, trigger queue", /standard_ExecutorFinish/],
  ["start", "executor start and end: set-up, relations, indexes", /standard_Executor(Start|End)/],
  ["run", "executor run: scans, row writes, locks, json", /standard_ExecutorRun/],
  ["commit", "commit: WAL, locks, wake-ups", /CommitTransactionCommand|finish_xact_command/],
  ["protocol", "client protocol and network", /secure_read|secure_write|pq_|WaitEventSetWait|PostgresMain/],
] as const;
type PgPart = (typeof pgParts)[number][0] | "other";

/** A phase's CLOCK_MONOTONIC µs as perf's `--time start,end` (seconds). */
const perfTime = (us: [number, number]) => us.map((t) => (t / 1e6).toFixed(6)).join(",");

/** `perf script` over one phase's samples, with these fields. */
function perfScript(file: string, fields: string, phaseUs: [number, number]): string {
  return execFileSync("perf", ["script", "-i", file, "-F", fields, "--time", perfTime(phaseUs)], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
    stdio: ["ignore", "pipe", "ignore"],
  });
}

/** PostgreSQL's samples' time (µs) by what it was doing within the phase, from `perf script -g`. */
function pgPartsOf(file: string, phaseUs: [number, number], hz: number) {
  const out = perfScript(file, "comm,ip,sym", phaseUs);
  const byPart = new Map<PgPart, number>();
  // A sample: its comm on one line, then one frame per line, leaf first ("  ffffffff81754c5c
  // __x64_sys_epoll_wait"), then a blank line.
  for (const sample of out.split("\n\n")) {
    const lines = sample.trim().split("\n");
    if (lines[0]?.trim() !== "postgres") continue;
    const frames = lines.slice(1).map((line) => line.trim().replace(/^[0-9a-f]+\s+/, ""));
    const part = pgParts.find(([, , pattern]) => frames.some((frame) => pattern.test(frame)))?.[0] ?? "other";
    byPart.set(part, (byPart.get(part) ?? 0) + 1e6 / hz);
  }
  return byPart;
}

interface PerfFigures {
  label: string;
  summary: string;
  /** µs of CPU per send, by part. */
  perSend: Map<Part, number>;
  /** µs of PostgreSQL's CPU per send, by what it was doing. */
  pgPerSend: Map<PgPart, number>;
}

/** Samples' time (µs) by part within the phase (CLOCK_MONOTONIC µs), from `perf script`. */
function partsOf(file: string, pid: number, phaseUs: [number, number], hz: number) {
  const out = perfScript(file, "tid,time,ip,sym,dso", phaseUs);
  const byPart = new Map<Part, number>();
  for (const line of out.split("\n")) {
    // "  776 11758.123456:  7f3a… Builtins_LoadIC (/path/to/node)"
    const m = /^\s*(\d+)\s+[\d.]+:\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
    if (!m) continue;
    const part = partOf(Number(m[1]) === pid, m[2] ?? "", m[3] ?? "");
    byPart.set(part, (byPart.get(part) ?? 0) + 1e6 / hz);
  }
  return byPart;
}

/** Why --perf-many-rooms cannot run here, in one line, or null when it can. */
export function perfMissing(): string | null {
  return firstMissing([
    {
      command: "perf",
      args: ["--version"],
      missing: "--perf-many-rooms needs Linux perf: apt-get install linux-perf (Debian), then run it again.",
    },
    {
      // What the PostgreSQL phase asks for: every process on one CPU.
      command: "perf",
      args: ["record", "-q", "-e", "cpu-clock", "-C", "0", "-o", "/dev/null", "--", "true"],
      missing:
        "--perf-many-rooms needs the right to sample a whole CPU: run it as root (or with kernel.perf_event_paranoid at 0 or below).",
    },
  ]);
}

const hz = 999;

/** Each part's µs divided by the phase's sends. */
const perSendOf = <K>(byPart: Map<K, number>, sends: number) =>
  new Map([...byPart].map(([part, us]) => [part, us / Math.max(1, sends)]));

/** Workload 2 on a fresh server process with `perf record` (cpu-clock, `hz`) and these target arguments. */
async function underPerf(
  ctx: BenchContext,
  target: Target,
  perfTarget: (serverPid: number) => string[],
  file: string,
): Promise<{ result: ManyRoomsResult; file: string; pid: number }> {
  const server = await spawnServer(target.kind, { port: 0, databaseUrl: ctx.db.url }, { node: ctx.node });
  const perf = spawn(
    "perf",
    [
      "record",
      "-e",
      "cpu-clock",
      "-F",
      String(hz),
      "-k",
      "CLOCK_MONOTONIC",
      ...perfTarget(server.pid),
      "-o",
      file,
    ],
    { stdio: "ignore" },
  );
  const perfExited = new Promise((resolve) => perf.once("exit", resolve));
  const result = await runManyRooms(ctx, target, server);
  perf.kill("SIGINT");
  await perfExited;
  await server.stop();
  return { result, file, pid: server.pid };
}

/**
 * `pnpm bench --perf-many-rooms[=seconds]`: workload 2 against Parley and the Socket.IO peer, each
 * under `perf record` (cpu-clock, every thread), its measured phase stretched (default 20 s); then
 * each server's CPU per send over that phase, split by where it ran, side by side. Needs Linux
 * perf (Debian: linux-perf) and the right to profile the server's process (root, or
 * kernel.perf_event_paranoid ≤ 1 for the kernel's share).
 */
export async function perfManyRooms(ctx: BenchContext, dir: string, seconds = 20): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const longer = { ...ctx, sizes: { ...ctx.sizes, manyRoomsMs: seconds * 1000 } };
  const figures: PerfFigures[] = [];
  for (const target of targets.filter((t) => t.kind === "parley" || t.kind === "socketio")) {
    // Two phases on fresh server processes: one with perf on the server alone, one with perf on
    // PostgreSQL's core. Both at once disturbed both: the per-CPU sampling with call chains took
    // about a third of core 1, and the server's kernel share doubled under it.
    const serverRun = await underPerf(
      longer,
      target,
      (pid) => ["-p", String(pid)],
      join(dir, `${target.kind}.perf.data`),
    );
    const { result, file } = serverRun;
    const sends = Math.round(result.persistedPerSecond * seconds);
    const perSend = perSendOf(partsOf(file, serverRun.pid, result.monotonicUs, hz), sends);
    // PostgreSQL runs on core 1 with the generator: a per-CPU event with call chains (`-u postgres`
    // kept about half of the core busy in perf itself), its samples picked out by process name.
    const pgRun = await underPerf(
      longer,
      target,
      () => ["-g", "-C", "1"],
      join(dir, `${target.kind}.postgres.perf.data`),
    );
    const pgSends = Math.round(pgRun.result.persistedPerSecond * seconds);
    const pgPerSend = perSendOf(pgPartsOf(pgRun.file, pgRun.result.monotonicUs, hz), pgSends);
    figures.push({
      label: target.label,
      perSend,
      pgPerSend,
      summary: [
        `${target.label}: p50 ${result.p50} ms, p99 ${result.p99} ms, ${cpuLine(result.cpu)}, ${((result.cpu.serverCpuSeconds * 1e6) / Math.max(1, sends)).toFixed(0)} µs of server CPU per send (/proc); perf report -i ${file} --time ${perfTime(result.monotonicUs)} --sort dso,sym`,
        `${target.label}, PostgreSQL's phase: ${cpuLine(pgRun.result.cpu)}, ${((pgRun.result.cpu.postgresCpu * pgRun.result.cpu.wallSeconds * 1e6) / Math.max(1, pgSends)).toFixed(0)} µs of PostgreSQL CPU per send (/proc); perf report -i ${pgRun.file} --comm postgres --children --time ${perfTime(pgRun.result.monotonicUs)}`,
      ].join("\n"),
    });
  }
  const width = Math.max(...[...parts, ...pgParts].map(([, text]) => text.length));
  const cell = (n: number) => n.toFixed(0).padStart(10);
  const row = (text: string, values: number[]) => `${text.padEnd(width)}${values.map(cell).join("")}`;
  const table = <K extends string>(
    title: string,
    rows: readonly (readonly [K, string, ...unknown[]])[],
    of: (f: PerfFigures) => Map<K, number>,
  ) => [
    `${title.padEnd(width)}${figures.map((f) => f.label.split(" ")[0]?.padStart(10)).join("")}`,
    ...rows.map(([part, text]) =>
      row(
        text,
        figures.map((f) => of(f).get(part) ?? 0),
      ),
    ),
    row(
      "total (perf samples)",
      figures.map((f) => [...of(f).values()].reduce((a, b) => a + b, 0)),
    ),
  ];
  return [
    `many rooms under perf (${ctx.sizes.manyRooms} rooms × ${ctx.sizes.manyRoomSubscribers} subscribers, ${ctx.sizes.manyRoomsRate} msgs/s, ${seconds} s measured; each send is ${ctx.sizes.manyRoomSubscribers} deliveries)`,
    ...figures.map((f) => f.summary),
    "",
    ...table("server CPU µs per send, by where it ran", parts, (f) => f.perSend),
    "",
    ...table(
      "PostgreSQL CPU µs per send, by what it was doing",
      [...pgParts, ["other", "other"] as const],
      (f) => f.pgPerSend,
    ),
  ].join("\n");
}
