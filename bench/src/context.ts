import type { BenchDatabase, Layout } from "./database.ts";
import { type CpuReport, startCpuMeter, validity } from "./proc.ts";
import type { ServerProcess } from "./server-process.ts";

export interface Sizes {
  fanoutSubscribers: number;
  fanoutSenders: number;
  fanoutRates: number[];
  /** The same ceiling for a room ten times larger (workload 1b). */
  fanoutLargeSubscribers: number;
  fanoutLargeRates: number[];
  fanoutStepMs: number;
  manyRooms: number;
  manyRoomSubscribers: number;
  manyRoomSenders: number;
  manyRoomsRate: number;
  manyRoomsMs: number;
  /**
   * Many rooms' warm-up before the measured phase, at `manyRoomsWarmRate`: what settles the send
   * path is how many sends V8 has seen (bench/README.md), so twice the phase's rate for half the
   * time warms it as far in half the wall time.
   */
  manyRoomsWarmMs: number;
  manyRoomsWarmRate: number;
  historyConcurrency: number;
  historyMs: number;
  idleSockets: number;
  coldStartRepeats: number;
  stormSubscribers: number;
  stormRate: number;
  stormBeforeKillMs: number;
  stormAfterResumeMs: number;
  slowSubscribers: number;
  slowRate: number;
  /**
   * The slow consumer's warm-up, every reader reading, at `slowWarmRate`. Long enough for each
   * server's young generation to reach the size this rate keeps it at: after 1 s, Parley's (which
   * allocates about a sixth of what the peer's does per message) grew from 8 to 16 MB semispaces
   * inside the measured phase on Node 22, and the RSS growth column measured that. The same
   * messages at twice the rate allocate as much in half the time.
   */
  slowWarmMs: number;
  slowWarmRate: number;
  slowMs: number;
  scaleOutMs: number;
  /** Subscribers per workload that go through the server's own client library. */
  realClients: number;
}

export const fullSizes: Sizes = {
  fanoutSubscribers: 500,
  fanoutSenders: 10,
  // 20 first: the "deliveries per server CPU-second at 20 msgs/s" row reads that step. No rungs
  // at 45, 70 or 150: the medians of issue 14's nine runs of this harness were 120–330 msgs/s for
  // every server, decided by the rungs from 100 up and the step between, so those three rungs
  // decided nothing and cost the first repeat 3 × 2.5 s a server. Below 220 the ceiling is now
  // found to within a step of 40–60 msgs/s instead of 25–35; the same ladder for every server.
  fanoutRates: [20, 100, 220, 330, 500, 750],
  fanoutLargeSubscribers: 5_000,
  fanoutLargeRates: [4, 8, 12, 18, 27, 40, 60, 90],
  // Each phase runs three times (--repeats): steps, windows and durations are shorter than in
  // the one-run bench so that the whole stays under 15 minutes on two cores.
  fanoutStepMs: 2_000,
  manyRooms: 50,
  manyRoomSubscribers: 10,
  manyRoomSenders: 2,
  manyRoomsRate: 200,
  manyRoomsMs: 5_000,
  // Until every server's optimising compiler has settled on the send path (bench/README.md).
  manyRoomsWarmMs: 5_000,
  manyRoomsWarmRate: 400,
  historyConcurrency: 16,
  historyMs: 3_000,
  idleSockets: 2_500,
  coldStartRepeats: 1,
  stormSubscribers: 1_000,
  stormRate: 20,
  stormBeforeKillMs: 2_000,
  // 20 messages after every subscriber resumed: what the storm checks is that they all arrive
  // once, and 40 checked nothing 20 do not (it was 2 s; bench/README.md, Wall time).
  stormAfterResumeMs: 1_000,
  slowSubscribers: 500,
  slowRate: 100,
  slowWarmMs: 2_500,
  slowWarmRate: 200,
  // 6 s (600 messages, the paused reader's backlog still in the kernel's buffers): it was 8, and
  // the run of 2026-12-02 at 7357efc took 904 s, over the budget (bench/README.md, Wall time).
  slowMs: 6_000,
  // 2 s: 2,000 sampled deliveries per case in one room, 4,000 in many rooms, for its p99; each of
  // its 18 cases (3 set-ups × 2 workloads × 3 repeats) paid a third second more at 3 s.
  scaleOutMs: 2_000,
  realClients: 10,
};

export const quickSizes: Sizes = {
  fanoutSubscribers: 100,
  fanoutSenders: 4,
  fanoutRates: [20, 60, 150, 400],
  fanoutLargeSubscribers: 500,
  fanoutLargeRates: [5, 15, 40],
  fanoutStepMs: 2_000,
  manyRooms: 10,
  manyRoomSubscribers: 10,
  manyRoomSenders: 2,
  manyRoomsRate: 100,
  manyRoomsMs: 3_000,
  manyRoomsWarmMs: 1_000,
  manyRoomsWarmRate: 100,
  historyConcurrency: 8,
  historyMs: 2_000,
  idleSockets: 500,
  coldStartRepeats: 1,
  stormSubscribers: 200,
  stormRate: 20,
  stormBeforeKillMs: 1_500,
  stormAfterResumeMs: 1_500,
  slowSubscribers: 100,
  slowRate: 100,
  slowWarmMs: 1_000,
  slowWarmRate: 100,
  slowMs: 5_000,
  scaleOutMs: 2_000,
  realClients: 3,
};

export interface BenchContext {
  quick: boolean;
  /** How many times each phase runs (`--repeats=N`, default 3). */
  repeats: number;
  sizes: Sizes;
  db: BenchDatabase;
  layout: Layout;
  log(line: string): void;
  /** A fresh run id: markers of earlier runs are told apart from this one's. */
  newRun(): number;
  /** `--node=PATH`: the Node binary every server runs on (default: the generator's). */
  node?: string;
  /** `--heap[=snapshots]`: memory figures (and heap snapshots) at points of the workloads (heap.ts). */
  heap?: "figures" | "snapshots" | "live";
}

export interface MeasuredCpu extends CpuReport {
  valid: boolean;
  /** Invalid because the load generator filled its core (not because of other processes). */
  generatorLimited: boolean;
  note?: string;
}

export const cpuLine = (cpu: MeasuredCpu) =>
  `server ${Math.round(cpu.serverCpu * 100)}% gen ${Math.round(cpu.generatorCpu * 100)}% pg ${Math.round(cpu.postgresCpu * 100)}% (cores ${Math.round(cpu.core0Busy * 100)}/${Math.round(cpu.core1Busy * 100)}%)${cpu.valid ? "" : " INVALID"}${cpu.note ? `: ${cpu.note}` : ""}`;

/** Runs a measured phase again, once, when other processes on the machine spoiled it. */
export async function retryIfDisturbed<T extends { cpu: MeasuredCpu }>(
  ctx: BenchContext,
  label: string,
  run: () => Promise<T>,
): Promise<T> {
  const first = await run();
  if (first.cpu.valid || first.cpu.generatorLimited) return first;
  ctx.log(`  ${label}: disturbed by other processes, once more`);
  return run();
}

export function meterCpu(ctx: BenchContext, server: ServerProcess): () => MeasuredCpu {
  const stop = startCpuMeter(server.pid, ctx.db.postmasterPid());
  return () => {
    const cpu = stop();
    const verdict = validity(cpu);
    // Other processes filling the cores make a saturated core 1 look like the generator's doing:
    // that phase was disturbed, not generator-bound (validity() names other processes first).
    const disturbed = verdict.note?.startsWith("other processes") ?? false;
    const generatorLimited =
      !verdict.valid &&
      !disturbed &&
      (cpu.generatorCpu >= 0.95 || (cpu.core1Busy >= 0.97 && cpu.generatorCpu >= cpu.postgresCpu));
    return { ...cpu, ...verdict, generatorLimited };
  };
}

let runCounter = 0;
export const nextRun = () => ++runCounter;
