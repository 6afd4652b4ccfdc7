import { fileURLToPath } from "node:url";
import type { BenchContext } from "./context.ts";
import type { ServerProcess } from "./server-process.ts";
import type { HeapReport } from "./servers/ipc.ts";

const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
const mib = (n: number) => (n / 1024 / 1024).toFixed(1);

export const heapLine = (report: HeapReport) =>
  `heap used ${mib(report.memory.heapUsed)} of ${mib(report.memory.heapTotal)} MiB, external ${mib(report.memory.external)} (array buffers ${mib(report.memory.arrayBuffers)}), RSS ${mib(report.memory.rss)} MiB, ${report.tcpSockets} TCP sockets`;

/**
 * `--heap`: logs the server's memory at a named point of a workload; with `--heap=snapshots` and
 * `snapshot`, also writes a heap snapshot to results/heap-<server>-<when>.heapsnapshot.tmp.
 * `gc: false` reads the figures as they are (during a phase: a full GC would change what is measured).
 */
export async function heapPoint(
  ctx: BenchContext,
  server: ServerProcess,
  when: string,
  options: { snapshot?: boolean; gc?: boolean } = {},
): Promise<HeapReport | undefined> {
  if (!ctx.heap) return undefined;
  const path =
    options.snapshot && ctx.heap === "snapshots"
      ? `${resultsDir}heap-${server.kind}-${when}.heapsnapshot.tmp`
      : undefined;
  const report = await server.heapReport({ path, gc: options.gc ?? true });
  ctx.log(
    `  ${server.kind} ${when}: ${heapLine(report)}${report.snapshot ? `, snapshot ${report.snapshot}` : ""}`,
  );
  return report;
}
