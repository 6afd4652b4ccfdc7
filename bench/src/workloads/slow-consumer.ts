import { type BenchContext, type MeasuredCpu, meterCpu } from "../context.ts";
import { tokenOf } from "../database.ts";
import { heapPoint } from "../heap.ts";
import {
  Deliveries,
  drain,
  generatorGcSince,
  openSubscriptions,
  type Route,
  SAMPLE_EVERY,
  sendOpenLoop,
  sleep,
} from "../load.ts";
import { processRssBytes } from "../proc.ts";
import type { ServerProcess } from "../server-process.ts";
import { round } from "../stats.ts";
import type { Target } from "../targets.ts";

export interface SlowConsumerResult {
  subscribers: number;
  rate: number;
  seconds: number;
  rssStartMiB: number;
  rssMaxMiB: number;
  rssEndMiB: number;
  growthMiB: number;
  othersP50: number;
  othersP99: number;
  othersMissing: number;
  /** Whether the server had closed the paused socket by the end. */
  slowSocketClosed: boolean;
  cpu: MeasuredCpu;
}

const MiB = 1024 * 1024;

/** Workload 7: one of N subscribers stops reading while the room gets a steady rate. */
export async function runSlowConsumer(
  ctx: BenchContext,
  target: Target,
  server: ServerProcess,
): Promise<SlowConsumerResult> {
  const { sizes, layout } = ctx;
  const deliveries = new Deliveries(ctx.newRun());
  const n = sizes.slowSubscribers;
  let slowReceived = 0;
  // The paused subscriber (0) counts what it gets. Of the others, one in SAMPLE_EVERY reads the
  // marker and keeps its latency and the rest count frames, as in the fan-out: with every one of
  // the 499 parsing every frame, the generator ran major GCs inside the 12-s phase (8–76 in
  // Parley's phases, 6–26 in the others') and the others' p99 of every server followed them.
  const sampled = (i: number) => i % SAMPLE_EVERY === 1;
  const subs = await openSubscriptions(n, 100, (i) =>
    target.subscribe({
      url: server.url,
      token: tokenOf(i),
      roomId: layout.slowRoom,
      onMessage:
        i === 0
          ? () => {
              slowReceived++;
            }
          : deliveries.onMessage,
      onCount: i === 0 || sampled(i) ? undefined : deliveries.onCount,
    }),
  );
  let sampledCount = 0;
  for (let i = 1; i < n; i++) if (sampled(i)) sampledCount++;
  const counters = n - 1 - sampledCount;
  const routes: Route[] = Array.from({ length: 10 }, (_, s) => ({
    sender: target.createSender(server.url, tokenOf(layout.senderBase + s)),
    roomId: layout.slowRoom,
  }));
  await Promise.all(routes.map((r) => r.sender.ready));
  const warm = deliveries.startPhase(sampledCount, counters);
  await sendOpenLoop(deliveries, warm, routes, sizes.slowWarmRate, sizes.slowWarmMs);
  await drain(warm, 1_000);

  // Before the phase (its baseline, the snapshot's GC and pause both out of the measured time).
  await heapPoint(ctx, server, "slow-start", { snapshot: true });
  const slow = subs[0];
  slow?.pause();
  const rss: number[] = [processRssBytes(server.pid)];
  const sampler = setInterval(() => rss.push(processRssBytes(server.pid)), 500);
  const phaseStart = performance.now();
  const heapSampler = ctx.heap
    ? setInterval(() => {
        const at = Math.round((performance.now() - phaseStart) / 1000);
        void heapPoint(ctx, server, `slow-${at}s`, { gc: false });
      }, 3_000)
    : undefined;
  const phase = deliveries.startPhase(sampledCount, counters);
  const cpuMeter = meterCpu(ctx, server);
  const gcFrom = performance.now();
  const { settled } = await sendOpenLoop(deliveries, phase, routes, sizes.slowRate, sizes.slowMs);
  await Promise.race([settled, sleep(2_000)]);
  await drain(phase, 2_000);
  const cpu = cpuMeter();
  const generatorGc = generatorGcSince(gcFrom);
  clearInterval(sampler);
  clearInterval(heapSampler);
  rss.push(processRssBytes(server.pid));
  await heapPoint(ctx, server, "slow-end", { gc: false });
  await heapPoint(ctx, server, "slow-end", { snapshot: true });
  const beforeResume = slowReceived;
  slow?.resume();
  await sleep(1_000);
  const slowSocketClosed = (slow?.disconnects ?? 0) > 0 || !(slow?.isOpen() ?? false);
  for (const sub of subs) sub.close();
  for (const route of routes) route.sender.close();

  const latency = phase.samples.summary(phase.expected);
  const start = rss[0] ?? 0;
  const max = Math.max(...rss);
  const result: SlowConsumerResult = {
    subscribers: n,
    rate: sizes.slowRate,
    seconds: sizes.slowMs / 1000,
    rssStartMiB: round(start / MiB),
    rssMaxMiB: round(max / MiB),
    rssEndMiB: round((rss.at(-1) ?? 0) / MiB),
    growthMiB: round((max - start) / MiB),
    othersP50: round(latency.p50),
    othersP99: round(latency.p99),
    othersMissing: latency.expected - latency.count + phase.expectedCounted - phase.counted,
    slowSocketClosed,
    cpu,
  };
  ctx.log(
    `  ${target.label} slow consumer: RSS ${result.rssStartMiB} → max ${result.rssMaxMiB} MiB (+${result.growthMiB}), others p50 ${result.othersP50} p99 ${result.othersP99} ms, slow socket ${slowSocketClosed ? "closed by the server" : "still open"} (got ${beforeResume} before resuming, ${slowReceived} after), ${generatorGc}`,
  );
  return result;
}
