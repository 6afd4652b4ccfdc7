import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parleyDist, peersDist } from "./bundles.ts";
import { processCpuSeconds } from "./proc.ts";
import type { HeapReport, MemoryReport, ServerConfig } from "./servers/ipc.ts";

export type ServerKind = "parley" | "socketio" | "floor";

const benchDir = fileURLToPath(new URL("..", import.meta.url));
/** Bundles made by bundleServers() (bundles.ts) before the first spawn. */
const entries: Record<ServerKind, string> = {
  parley: join(parleyDist, "parley.mjs"),
  socketio: join(peersDist, "socketio-peer.mjs"),
  floor: join(peersDist, "floor.mjs"),
};

export interface ServerProcess {
  kind: ServerKind;
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  spawnedAt: number;
  /** RSS and heap after two full GCs in the server. */
  memoryAfterGc(): Promise<MemoryReport>;
  /** Memory figures (after two full GCs unless `gc` is false), and a heap snapshot written to `path` if given. */
  heapReport(options: { path?: string; gc: boolean }): Promise<HeapReport>;
  /** Graceful stop (SIGTERM handling in the entry): lets --cpu-prof write its file. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, as far as clients can tell. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Waits until the server is idle (under 10% of a core over a quarter of a second), at most
 * `maxMs`: a server that fell behind in one workload is still working off its backlog when the
 * next starts. A quarter second (25 clock ticks) still tells a backlog from idle; it runs about 140
 * times in a full bench, so half a second cost some 35 s of the 15-minute budget for nothing.
 */
export async function waitUntilIdle(server: ServerProcess, maxMs = 20_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  const windowMs = 250;
  while (performance.now() < deadline) {
    const before = processCpuSeconds(server.pid);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (processCpuSeconds(server.pid) - before < (0.1 * windowMs) / 1000) return;
  }
}

export interface SpawnOptions {
  /** The Node binary the server runs on (`--node`; default: the generator's). */
  node?: string;
  /** Core the server is pinned to (taskset). */
  core?: number;
  cpuProfileDir?: string;
  /** Resolve at spawn time instead of waiting for "ready" (cold-start timing polls /readyz itself). */
  logFile?: string;
}

/** Starts a server entry in its own Node process pinned to one core, and waits until it listens. */
export function spawnServer(
  kind: ServerKind,
  config: ServerConfig,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const nodeArgs = [
    "--expose-gc",
    // Under the profiler, each GC's pause goes to the server's log too: a latency spike is often one.
    ...(options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir, "--trace-gc"] : []),
    entries[kind],
    JSON.stringify(config),
  ];
  const spawnedAt = performance.now();
  const node = options.node ?? process.execPath;
  const child = spawn("taskset", ["-c", String(options.core ?? 0), node, ...nodeArgs], {
    cwd: benchDir,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const log = createWriteStream(options.logFile ?? `${benchDir}/results/server-${kind}.log.tmp`, {
    flags: "a",
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let tail = "";
  const keepTail = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keepTail);
  child.stderr?.on("data", keepTail);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      const m = message as { type?: string; port?: number };
      if (m.type !== "ready" || typeof m.port !== "number" || child.pid === undefined) return;
      child.off("message", onMessage);
      const port = m.port;
      const pid = child.pid;
      resolve({
        kind,
        pid,
        port,
        url: `http://127.0.0.1:${port}`,
        child,
        spawnedAt,
        exited,
        memoryAfterGc: () =>
          new Promise((resolveMemory, rejectMemory) => {
            const timer = setTimeout(() => rejectMemory(new Error(`${kind}: no memory report`)), 30_000);
            const onReport = (report: unknown) => {
              if ((report as { type?: string }).type !== "memory") return;
              clearTimeout(timer);
              child.off("message", onReport);
              resolveMemory(report as MemoryReport);
            };
            child.on("message", onReport);
            child.send("gc");
          }),
        heapReport: ({ path, gc }) =>
          new Promise((resolveHeap, rejectHeap) => {
            // Writing a snapshot of a few hundred MiB takes a while on a busy core.
            const timer = setTimeout(() => rejectHeap(new Error(`${kind}: no heap report`)), 120_000);
            const onReport = (report: unknown) => {
              if ((report as { type?: string }).type !== "heap") return;
              clearTimeout(timer);
              child.off("message", onReport);
              resolveHeap(report as HeapReport);
            };
            child.on("message", onReport);
            child.send({ heapSnapshot: path ?? "", gc });
          }),
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.send("stop");
          const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
          await exited;
          clearTimeout(timer);
        },
        async kill() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill("SIGKILL");
          await exited;
        },
      });
    };
    child.on("message", onMessage);
    void exited.then((code) =>
      reject(new Error(`${kind} server exited (${code}) before it was ready:\n${tail}`)),
    );
  });
}
