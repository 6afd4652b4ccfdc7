import { Agent, request } from "node:http";
import { type BenchContext, cpuLine, type MeasuredCpu, meterCpu } from "../context.ts";
import { tokenOf } from "../database.ts";
import { collectGeneratorGarbage } from "../load.ts";
import type { ServerProcess } from "../server-process.ts";
import { round, Samples } from "../stats.ts";
import type { Target } from "../targets.ts";

export interface HistoryResult {
  concurrency: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  requestsPerCpuSecond: number;
  cpu: MeasuredCpu;
}

function get(agent: Agent, url: URL, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Workload 3: 50 messages of history over HTTP, `concurrency` requests in flight at all times. */
export async function runHistory(
  ctx: BenchContext,
  target: Target,
  server: ServerProcess,
): Promise<HistoryResult> {
  const { sizes, layout } = ctx;
  const concurrency = sizes.historyConcurrency;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(target.historyPath(layout.historyRoom, 50), server.url);
  const status = await get(agent, url, tokenOf(0));
  if (status !== 200) throw new Error(`${target.label} history answered ${status}`);

  const samples = new Samples();
  let errors = 0;
  const loop = async (worker: number, until: number, record: boolean) => {
    const token = tokenOf(worker % 10);
    while (performance.now() < until) {
      const start = performance.now();
      const code = await get(agent, url, token).catch(() => 0);
      if (!record) continue;
      if (code === 200) samples.push(performance.now() - start);
      else errors++;
    }
  };
  const warmUntil = performance.now() + 1_000;
  await Promise.all(Array.from({ length: concurrency }, (_, w) => loop(w, warmUntil, false)));

  collectGeneratorGarbage();
  const cpuMeter = meterCpu(ctx, server);
  const until = performance.now() + sizes.historyMs;
  await Promise.all(Array.from({ length: concurrency }, (_, w) => loop(w, until, true)));
  const cpu = cpuMeter();
  agent.destroy();
  const latency = samples.summary();
  const result: HistoryResult = {
    concurrency,
    requestsPerSecond: round(latency.count / cpu.wallSeconds, 0),
    p50: round(latency.p50, 2),
    p99: round(latency.p99, 2),
    errors,
    requestsPerCpuSecond: round(latency.count / Math.max(0.01, cpu.serverCpuSeconds), 0),
    cpu,
  };
  ctx.log(
    `  ${target.label} history: ${result.requestsPerSecond} req/s, p50 ${result.p50} p99 ${result.p99} ms, ${cpuLine(cpu)}`,
  );
  return result;
}
