import { spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type BenchContext, cpuLine, type MeasuredCpu, retryIfDisturbed } from "./context.ts";
import { readMarker } from "./marker.ts";
import { readTcpSegments, WsFrames } from "./pcap.ts";
import { processCpuSeconds } from "./proc.ts";
import { spreadText } from "./report.ts";
import { spawnServer } from "./server-process.ts";
import { median, Samples } from "./stats.ts";
import { type Target, targets } from "./targets.ts";
import { firstMissing } from "./tool-check.ts";
import { runManyRooms } from "./workloads/many-rooms.ts";

/**
 * Where a message's latency goes, from the wire: workload 2 against Parley and the Socket.IO peer,
 * each with tcpdump on the loopback interface, and every message of the measured phase followed
 * by its marker through the packets that carry it: the sender's frame into the server, the
 * statement out to PostgreSQL and the first bytes of its reply, each subscriber's frame out, and
 * the load generator's read of it. The same instrument for both servers, and nothing inside them.
 */
const stages = [
  ["toWire", "generator: intended time → sender's frame on the wire"],
  ["beforeDb", "server: frame in → statement out to PostgreSQL"],
  ["db", "PostgreSQL: statement in → first bytes of its reply"],
  ["afterDb", "server: reply in → this subscriber's frame out"],
  ["read", "generator: frame on the wire → read by the subscriber"],
  ["total", "total (the bench's latency)"],
] as const;
type Stage = (typeof stages)[number][0];

/** Why --wire-many-rooms cannot run here, in one line, or null when it can. */
export function tcpdumpMissing(): string | null {
  return firstMissing([
    {
      command: "tcpdump",
      args: ["--version"],
      missing: "--wire-many-rooms needs tcpdump: apt-get install tcpdump, then run it again.",
    },
    {
      // Compiling a filter for lo opens the device: refused without the right to capture.
      command: "tcpdump",
      args: ["-i", "lo", "-d", "tcp"],
      missing: "--wire-many-rooms needs the right to capture on lo: run it as root.",
    },
  ]);
}

/** One message's points on the wire, CLOCK_REALTIME ns. */
interface Trace {
  inNs?: number;
  queryNs?: number;
  /** The PostgreSQL connection's port on the server's side, to find the reply. */
  pgPort?: number;
  ackNs?: number;
  outNs: number[];
  receivedNs: number[];
  intendedNs: number;
}

interface ServerFigures {
  label: string;
  summary: string;
  /** Each stage's p50, p99 and mean over the slowest 1% of deliveries, in ms. */
  stats: Map<Stage, [number, number, number]>;
  /** The sender's acknowledgement after PostgreSQL's reply, p50 ms (NaN when not followed). */
  ackAfterReply: number;
  roundTripsPerSend: number;
  cpu: MeasuredCpu;
}

/** p50 and p99 by the bench's own rule (Samples). */
function percentiles(values: number[]) {
  const samples = new Samples();
  for (const value of values) samples.push(value);
  return samples.summary();
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** The first value in an ascending list above `t`, by bisection. */
function firstAfter(list: number[], t: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return list[lo];
}

function traceCapture(
  file: string,
  serverPort: number,
  pgPort: number,
  traces: Map<number, Trace>,
  [first, end]: [number, number],
): { rows: Record<Stage, number>[]; ackAfterReply: number[]; roundTripsPerSend: number; incomplete: number } {
  const frames = new WsFrames();
  const replies = new Map<number, number[]>();
  const senderPorts = new Set<number>();
  const outs: { index: number; tNs: number; port: number }[] = [];
  const requests: number[] = [];
  const inPhase = (index: number) => index >= first && index < end;
  for (const segment of readTcpSegments(file)) {
    const { flow } = segment;
    if (flow.dstPort === pgPort) {
      requests.push(segment.tNs);
      const marker = readMarker(segment.payload);
      const trace = marker && inPhase(marker.index) ? traces.get(marker.index) : undefined;
      if (trace && trace.queryNs === undefined) {
        trace.queryNs = segment.tNs;
        trace.pgPort = flow.srcPort;
      }
    } else if (flow.srcPort === pgPort) {
      const list = replies.get(flow.dstPort) ?? [];
      list.push(segment.tNs);
      replies.set(flow.dstPort, list);
    } else {
      for (const frame of frames.push(segment)) {
        const marker = readMarker(frame.payload);
        if (!marker || !inPhase(marker.index)) continue;
        const trace = traces.get(marker.index);
        if (!trace) continue;
        if (flow.dstPort === serverPort) {
          trace.inNs ??= frame.tNs;
          senderPorts.add(flow.srcPort);
        } else outs.push({ index: marker.index, tNs: frame.tNs, port: flow.dstPort });
      }
    }
  }
  // A frame out on a sender's connection is its acknowledgement (Parley's carries the message).
  for (const out of outs) {
    const trace = traces.get(out.index);
    if (!trace) continue;
    if (senderPorts.has(out.port)) trace.ackNs ??= out.tNs;
    else trace.outNs.push(out.tNs);
  }
  const rows: Record<Stage, number>[] = [];
  const ackAfterReply: number[] = [];
  let incomplete = 0;
  let firstIn = Number.POSITIVE_INFINITY;
  let lastOut = 0;
  for (const [index, trace] of traces) {
    if (!inPhase(index)) continue;
    const { inNs, queryNs, pgPort } = trace;
    const replyNs =
      queryNs !== undefined && pgPort !== undefined
        ? firstAfter(replies.get(pgPort) ?? [], queryNs)
        : undefined;
    const outNs = trace.outNs.sort((a, b) => a - b);
    const receivedNs = trace.receivedNs.sort((a, b) => a - b);
    if (
      inNs === undefined ||
      queryNs === undefined ||
      replyNs === undefined ||
      outNs.length !== receivedNs.length
    ) {
      incomplete++;
      continue;
    }
    firstIn = Math.min(firstIn, inNs);
    lastOut = Math.max(lastOut, ...outNs);
    if (trace.ackNs !== undefined) ackAfterReply.push((trace.ackNs - replyNs) / 1e6);
    // The i-th frame out is paired with the i-th read: which socket read which is not recorded.
    outNs.forEach((out, i) => {
      const received = receivedNs[i] ?? out;
      rows.push({
        toWire: (inNs - trace.intendedNs) / 1e6,
        beforeDb: (queryNs - inNs) / 1e6,
        db: (replyNs - queryNs) / 1e6,
        afterDb: (out - replyNs) / 1e6,
        read: (received - out) / 1e6,
        total: (received - trace.intendedNs) / 1e6,
      });
    });
  }
  const sends = end - first - incomplete;
  const duringPhase = requests.filter((t) => t >= firstIn && t <= lastOut).length;
  return { rows, ackAfterReply, roundTripsPerSend: duringPhase / Math.max(1, sends), incomplete };
}

/**
 * `pnpm bench --wire-many-rooms[=seconds]`: see the comment at the top. tcpdump runs on the load
 * generator's core (1), where PostgreSQL also runs; it buffers in the kernel and writes in blocks,
 * and each phase's line gives the p50 and p99 it saw, to set against an untraced run's.
 */
export async function wireManyRooms(ctx: BenchContext, dir: string, seconds = 5): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const longer = { ...ctx, sizes: { ...ctx.sizes, manyRoomsMs: seconds * 1000 } };
  const servers = targets.filter((t) => t.kind === "parley" || t.kind === "socketio");
  const runs = new Map<Target, ServerFigures[]>(servers.map((t) => [t, []]));
  // Repeats interleaved, as in the bench's own phases: Parley, peer, Parley, …
  for (let repeat = 0; repeat < ctx.repeats; repeat++)
    for (const target of servers) {
      const file = join(dir, `${target.kind}-${repeat + 1}.pcap`);
      // A phase other processes spoiled runs once more, as the bench's own phases do.
      const figures = await retryIfDisturbed(ctx, `${target.label} many rooms`, () =>
        traceOnce(longer, target, file),
      );
      runs.get(target)?.push(figures);
    }
  return wireReport(ctx, seconds, [...runs.values()]);
}

/** One phase of workload 2 under tcpdump, and each stage's figures over its deliveries. */
async function traceOnce(ctx: BenchContext, target: Target, file: string): Promise<ServerFigures> {
  const pgPort = Number(new URL(ctx.db.url).port);
  // performance.now() on the generator's clock → CLOCK_REALTIME ns, pcap's clock.
  const realtimeNs = (ms: number) => (performance.timeOrigin + ms) * 1e6;
  const server = await spawnServer(target.kind, { port: 0, databaseUrl: ctx.db.url }, { node: ctx.node });
  const filter = `tcp port ${server.port} or tcp port ${pgPort}`;
  const tcpdump = spawn(
    "taskset",
    [
      "-c",
      "1",
      "tcpdump",
      "-i",
      "lo",
      "-s",
      "0",
      "-B",
      "65536",
      "--time-stamp-precision=nano",
      "-Z",
      "root",
    ].concat(["-w", file, filter]),
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  const listening = new Promise<void>((resolve, reject) => {
    tcpdump.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("listening on")) resolve();
    });
    tcpdump.once("exit", () => reject(new Error(`tcpdump: ${stderr.trim()}`)));
  });
  await listening;
  const exited = new Promise((resolve) => tcpdump.once("exit", resolve));
  const traces = new Map<number, Trace>();
  const result = await runManyRooms(ctx, target, server, (marker, receivedMs) => {
    let trace = traces.get(marker.index);
    if (!trace) {
      trace = { outNs: [], receivedNs: [], intendedNs: realtimeNs(marker.intendedMs) };
      traces.set(marker.index, trace);
    }
    trace.receivedNs.push(realtimeNs(receivedMs));
  });
  const tcpdumpCpu = tcpdump.pid ? processCpuSeconds(tcpdump.pid) : Number.NaN;
  tcpdump.kill("SIGINT");
  await exited;
  await server.stop();
  const dropped = /(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? "?";
  const traced = traceCapture(file, server.port, pgPort, traces, result.indexes);
  const cut = percentiles(traced.rows.map((r) => r.total)).p99;
  const stats = new Map<Stage, [number, number, number]>();
  for (const [stage] of stages) {
    const { p50, p99 } = percentiles(traced.rows.map((r) => r[stage]));
    const tail = traced.rows.filter((r) => r.total >= cut).map((r) => r[stage]);
    stats.set(stage, [p50, p99, mean(tail)]);
  }
  return {
    label: target.label,
    stats,
    ackAfterReply: median(traced.ackAfterReply),
    roundTripsPerSend: traced.roundTripsPerSend,
    cpu: result.cpu,
    summary: `${target.label}: p50 ${result.p50} ms, p99 ${result.p99} ms (traced), ${cpuLine(result.cpu)}; ${traced.rows.length} deliveries followed, ${traced.incomplete} messages not followed whole, ${dropped} packets dropped by the kernel, tcpdump ${tcpdumpCpu.toFixed(2)} CPU-s in all; ${file}`,
  };
}

/** Each stage's p50, p99 and tail: the median over the repeats, with their spread. */
function wireReport(ctx: BenchContext, seconds: number, runs: ServerFigures[][]): string {
  const width = Math.max(...stages.map(([, text]) => text.length)) + 2;
  const columns = ["p50", "p99", "tail"];
  const names = runs.map((r) => (r[0]?.label === "Parley" ? "Parley" : "peer"));
  const cellWidth = 22;
  const header = `${"stage".padEnd(width)}${names.flatMap((n) => columns.map((c) => `${n} ${c}`.padStart(cellWidth))).join("")}`;
  const cell = (values: number[]) => spreadText(values, 2).padStart(cellWidth);
  const lines = [
    `many rooms on the wire (${ctx.sizes.manyRooms} rooms × ${ctx.sizes.manyRoomSubscribers} subscribers, ${ctx.sizes.manyRoomsRate} msgs/s, ${seconds} s measured, ${ctx.repeats} repeats)`,
    ...runs.flat().map((f) => f.summary),
    "",
    "Each delivery's latency split at the packets that carry its message (ms), medians of the repeats",
    "(min–max). p50 and p99 are each stage's own; 'tail' is the stage's mean over the slowest 1% of",
    "deliveries: what the p99 is made of.",
    header,
  ];
  for (const [stage, text] of stages) {
    const cells = runs.flatMap((r) =>
      columns.map((_, i) => cell(r.map((f) => f.stats.get(stage)?.[i] ?? Number.NaN))),
    );
    lines.push(`${text.padEnd(width)}${cells.join("")}`);
  }
  lines.push("");
  for (const r of runs) {
    const acks = r.map((f) => f.ackAfterReply).filter((a) => !Number.isNaN(a));
    lines.push(
      `${r[0]?.label}: ${median(r.map((f) => f.roundTripsPerSend)).toFixed(2)} requests to PostgreSQL per send; ` +
        (acks.length > 0
          ? `the sender's acknowledgement out ${median(acks).toFixed(3)} ms after the reply (p50)`
          : "its acknowledgement carries no marker (not followed)"),
    );
  }
  return lines.join("\n");
}
