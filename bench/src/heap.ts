import { fileURLToPath } from "node:url";
import type { BenchContext } from "./context.ts";
import type { ServerProcess } from "./server-process.ts";
import type { HeapReport } from "./servers/ipc.ts";

const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
const mib = (n: number) => (n / 1024 / 1024).toFixed(1);

export const heapLine = (report: HeapReport) =>
  `heap used ${mib(report.memory.heapUsed)} of ${mib(report.memory.heapTotal)} MiB, external ${mib(report.memory.external)} (array buffers ${mib(report.memory.arrayBuffers)}), RSS ${mib(report.memory.rss)} MiB, ${report.tcpSockets} TCP sockets, GC so far ${gcLine(report.gcMs)}`;

const gcLine = (ms: HeapReport["gcMs"]) =>
  `minor ${ms.minor.toFixed(0)} ms, major ${ms.major.toFixed(0)}, incremental ${ms.incremental.toFixed(0)}, weak ${ms.weak.toFixed(0)}`;

/** The GC time between two reports of one server (a phase's). */
export const gcBetween = (from: HeapReport, to: HeapReport) =>
  gcLine({
    minor: to.gcMs.minor - from.gcMs.minor,
    major: to.gcMs.major - from.gcMs.major,
    incremental: to.gcMs.incremental - from.gcMs.incremental,
    weak: to.gcMs.weak - from.gcMs.weak,
  });

/**
 * `--heap`: logs the server's memory at a named point of a workload; with `--heap=snapshots` and
 * `snapshot`, also writes a heap snapshot to results/heap-<server>-<when>.heapsnapshot.tmp.
 * `gc: false` reads the figures as they are (during a phase: a full GC would change what is
 * measured); `--heap=live` makes every point so, and takes no snapshot: what one workload leaves
 * for the next to collect stays there.
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
  const report = await server.heapReport({ path, gc: ctx.heap !== "live" && (options.gc ?? true) });
  ctx.log(
    `  ${server.kind} ${when}: ${heapLine(report)}${report.snapshot ? `, snapshot ${report.snapshot}` : ""}`,
  );
  return report;
}
