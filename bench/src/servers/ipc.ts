import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from "node:v8";

/**
 * The bench's handle on a server process, the same for the three servers: "ready" with the port
 * once listening, memory after a full GC on request (node runs with --expose-gc), and a graceful
 * stop (so that --cpu-prof can write its profile).
 */
export interface ServerConfig {
  port: number;
  databaseUrl?: string;
  dataDir?: string;
  /** Workload 8: instances that share one Redis bus. */
  redisUrl?: string;
}

export function readConfig(): ServerConfig {
  const raw = process.argv[2];
  if (!raw) throw new Error("usage: <entry> '<json config>'");
  return JSON.parse(raw) as ServerConfig;
}

export type MemoryReport = NodeJS.MemoryUsage & {
  type: "memory";
  /** Committed bytes of each V8 heap space (new_space, old_space, …): where heapTotal went. */
  spaces: Record<string, number>;
  /**
   * The part of each space's committed bytes that memory has been written to (V8's
   * physical_space_size, the pages' high-water marks): what RSS sees of it. A semispace the
   * young generation just grew into is committed whole but resident only as far as allocation went.
   */
  physicalSpaces: Record<string, number>;
};

/** `--heap`: memory figures (after two full GCs unless asked not to), and a snapshot written where the bench asked. */
export interface HeapReport {
  type: "heap";
  memory: NodeJS.MemoryUsage;
  heap: { usedHeapSize: number; totalHeapSize: number; numberOfNativeContexts: number };
  /** Open TCP sockets (clients and the database's): a workload's sockets not yet closed show here. */
  tcpSockets: number;
  /** Milliseconds spent in GC since the server started, by kind (a difference of two reports: a phase's). */
  gcMs: { minor: number; major: number; incremental: number; weak: number };
  snapshot?: string;
}

/** GC time by kind, from the server's start: a phase's share is the difference of two reports. */
const gcMs = { minor: 0, major: 0, incremental: 0, weak: 0 };
const gcKinds: [number, keyof typeof gcMs][] = [
  [constants.NODE_PERFORMANCE_GC_MINOR, "minor"],
  [constants.NODE_PERFORMANCE_GC_MAJOR, "major"],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, "incremental"],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, "weak"],
];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    const name = gcKinds.find(([k]) => k === kind)?.[1];
    if (name) gcMs[name] += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });

export function serveBench(port: number, close: () => Promise<void>): void {
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= close()
      .catch((error: unknown) => {
        process.stderr.write(`close failed: ${String(error)}\n`);
      })
      .finally(() => process.exit(0));
    return stopping;
  };
  process.on("SIGTERM", () => void stop());
  process.on("message", (message) => {
    if (message === "gc") {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const spaces: Record<string, number> = {};
      const physicalSpaces: Record<string, number> = {};
      for (const space of getHeapSpaceStatistics()) {
        spaces[space.space_name] = space.space_size;
        physicalSpaces[space.space_name] = space.physical_space_size;
      }
      process.send?.({
        type: "memory",
        ...process.memoryUsage(),
        spaces,
        physicalSpaces,
      } satisfies MemoryReport);
    } else if (typeof message === "object" && message !== null && "heapSnapshot" in message) {
      const { heapSnapshot: path, gc: collect } = message as { heapSnapshot: unknown; gc?: unknown };
      if (collect !== false) {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        gc?.();
      }
      const stats = getHeapStatistics();
      process.send?.({
        type: "heap",
        memory: process.memoryUsage(),
        heap: {
          usedHeapSize: stats.used_heap_size,
          totalHeapSize: stats.total_heap_size,
          numberOfNativeContexts: stats.number_of_native_contexts,
        },
        gcMs: { ...gcMs },
        tcpSockets: process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap").length,
        snapshot: typeof path === "string" && path !== "" ? writeHeapSnapshot(path) : undefined,
      } satisfies HeapReport);
    } else if (message === "stop") {
      void stop();
    }
  });
  process.send?.({ type: "ready", port });
}
