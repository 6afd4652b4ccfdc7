import { getHeapStatistics, writeHeapSnapshot } from "node:v8";

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

export type MemoryReport = NodeJS.MemoryUsage & { type: "memory" };

/** `--heap`: memory figures (after two full GCs unless asked not to), and a snapshot written where the bench asked. */
export interface HeapReport {
  type: "heap";
  memory: NodeJS.MemoryUsage;
  heap: { usedHeapSize: number; totalHeapSize: number; numberOfNativeContexts: number };
  /** Open TCP sockets (clients and the database's): a workload's sockets not yet closed show here. */
  tcpSockets: number;
  snapshot?: string;
}

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
      process.send?.({ type: "memory", ...process.memoryUsage() } satisfies MemoryReport);
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
        tcpSockets: process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap").length,
        snapshot: typeof path === "string" && path !== "" ? writeHeapSnapshot(path) : undefined,
      } satisfies HeapReport);
    } else if (message === "stop") {
      void stop();
    }
  });
  process.send?.({ type: "ready", port });
}
