import { type BenchContext, cpuLine, type MeasuredCpu, meterCpu } from "../context.ts";
import { tokenOf } from "../database.ts";
import { Deliveries, drain, openSubscriptions, type Route, sendOpenLoop, sleep } from "../load.ts";
import { type ServerProcess, waitUntilIdle } from "../server-process.ts";
import { round } from "../stats.ts";
import type { Target } from "../targets.ts";

export interface FanoutStep {
  rate: number;
  p50: number;
  p99: number;
  deliveredPerSecond: number;
  deliveriesPerCpuSecond: number;
  sendErrors: number;
  missing: number;
  pass: boolean;
  /** p99 under the limit, but the load generator saturated its core: a lower bound. */
  generatorBound: boolean;
  cpu: MeasuredCpu;
  /** CLOCK_MONOTONIC µs (the clock of V8's profiles) at the step's start and end. */
  monotonicUs: [number, number];
}

export interface FanoutResult {
  subscribers: number;
  realClients: number;
  steps: FanoutStep[];
  /**
   * The highest rate with p99 < 100 ms on a valid step, or on a step whose only fault was a
   * saturated load generator (then `generatorBound`: the server's real ceiling is higher).
   */
  best: FanoutStep | null;
  generatorBound: boolean;
  /** Why the ladder stopped. */
  stoppedBy: string;
}

const P99_LIMIT_MS = 100;

/** Workload 1: one room, N subscribers, the send rate stepped up until p99 passes 100 ms. */
export async function runFanout(
  ctx: BenchContext,
  target: Target,
  server: ServerProcess,
): Promise<FanoutResult> {
  const { sizes, layout } = ctx;
  const deliveries = new Deliveries(ctx.newRun());
  const real = target.hasClientLibrary ? sizes.realClients : 0;
  const subs = await openSubscriptions(sizes.fanoutSubscribers, 100, (i) =>
    target.subscribe(
      { url: server.url, token: tokenOf(i), roomId: layout.fanoutRoom, onMessage: deliveries.onMessage },
      i < real,
    ),
  );
  const routes: Route[] = [];
  for (let s = 0; s < sizes.fanoutSenders; s++) {
    routes.push({
      sender: target.createSender(server.url, tokenOf(layout.senderBase + s)),
      roomId: layout.fanoutRoom,
    });
  }
  await Promise.all(routes.map((r) => r.sender.ready));

  // Warm-up: JIT, pools, caches.
  const warm = deliveries.startPhase(subs.length);
  await sendOpenLoop(deliveries, warm, routes, 20, 1_500);
  await drain(warm, 1_000);

  const steps: FanoutStep[] = [];
  const step = async (rate: number): Promise<FanoutStep> => {
    const phase = deliveries.startPhase(subs.length);
    const cpuMeter = meterCpu(ctx, server);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const { settled } = await sendOpenLoop(deliveries, phase, routes, rate, sizes.fanoutStepMs);
    await Promise.race([settled, sleep(1_500)]);
    await drain(phase, 1_500);
    const cpu = cpuMeter();
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const latency = phase.samples.summary(phase.expected);
    const seconds = sizes.fanoutStepMs / 1000;
    const result: FanoutStep = {
      rate,
      p50: round(latency.p50),
      p99: round(latency.p99),
      deliveredPerSecond: round(latency.count / seconds, 0),
      deliveriesPerCpuSecond: round(latency.count / Math.max(0.01, cpu.serverCpuSeconds), 0),
      sendErrors: phase.sendErrors,
      missing: latency.expected - latency.count,
      pass: latency.p99 < P99_LIMIT_MS && cpu.valid,
      generatorBound: latency.p99 < P99_LIMIT_MS && !cpu.valid && cpu.generatorLimited,
      cpu,
      monotonicUs: [fromUs, toUs],
    };
    steps.push(result);
    ctx.log(
      `  ${target.label} fan-out ${rate}/s: p50 ${result.p50} ms p99 ${result.p99} ms, ${result.deliveredPerSecond} deliveries/s, ${cpuLine(cpu)}`,
    );
    await waitUntilIdle(server, 5_000);
    return result;
  };

  let best: FanoutStep | null = null;
  let stoppedBy = "top of the ladder";
  let previous = 0;
  for (const rate of sizes.fanoutRates) {
    let result = await step(rate);
    // Other processes on the machine can spoil a step: one more try before giving up on it.
    if (!result.cpu.valid && !result.cpu.generatorLimited) {
      await waitUntilIdle(server, 5_000);
      result = await step(rate);
    }
    if (result.pass) {
      best = result;
      previous = rate;
      continue;
    }
    // One step between the last pass and the first failure narrows the answer.
    const mid = Math.round((previous + rate) / 2);
    if (previous > 0 && result.cpu.valid && mid > previous && mid < rate && rate - previous >= 10) {
      const between = await step(mid);
      if (between.pass) best = between;
    }
    if (result.generatorBound) best = result;
    stoppedBy = result.cpu.valid
      ? `p99 ${result.p99} ms at ${rate}/s`
      : `invalid at ${rate}/s: ${result.cpu.note}`;
    break;
  }

  for (const sub of subs) sub.close();
  for (const route of routes) route.sender.close();
  return {
    subscribers: subs.length,
    realClients: real,
    steps,
    best,
    generatorBound: best?.generatorBound ?? false,
    stoppedBy,
  };
}
