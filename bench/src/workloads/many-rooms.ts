import { type BenchContext, cpuLine, type MeasuredCpu, meterCpu } from "../context.ts";
import { tokenOf } from "../database.ts";
import { gcBetween, heapPoint } from "../heap.ts";
import {
  Deliveries,
  drain,
  generatorGcSince,
  openSubscriptions,
  type Route,
  sendOpenLoop,
  sleep,
} from "../load.ts";
import type { ServerProcess } from "../server-process.ts";
import { round } from "../stats.ts";
import type { Target } from "../targets.ts";

export interface ManyRoomsResult {
  rooms: number;
  subscribers: number;
  senders: number;
  offeredPerSecond: number;
  persistedPerSecond: number;
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  missing: number;
  sendErrors: number;
  deliveriesPerCpuSecond: number;
  cpu: MeasuredCpu;
  /** The measured phase, in CLOCK_MONOTONIC µs (what --cpu-prof and `perf record -k` stamp). */
  monotonicUs: [number, number];
  /** The measured phase's message indexes, first and past-the-end (markers carry them). */
  indexes: [number, number];
}

/** Workload 2: many small rooms, two senders each, a fixed offered rate over all of them. */
export async function runManyRooms(
  ctx: BenchContext,
  target: Target,
  server: ServerProcess,
  observe?: Deliveries["observe"],
): Promise<ManyRoomsResult> {
  const { sizes, layout } = ctx;
  const deliveries = new Deliveries(ctx.newRun());
  deliveries.observe = observe;
  const perRoom = sizes.manyRoomSubscribers;
  const rooms = layout.manyRooms.slice(0, sizes.manyRooms);
  const real = target.hasClientLibrary ? sizes.realClients : 0;
  const subs = await openSubscriptions(rooms.length * perRoom, 100, (i) =>
    target.subscribe(
      {
        url: server.url,
        token: tokenOf(i),
        roomId: rooms[Math.floor(i / perRoom)] ?? "",
        onMessage: deliveries.onMessage,
      },
      i < real,
    ),
  );
  // Routes interleave rooms so that consecutive sends go to different rooms.
  const routes: Route[] = [];
  for (let s = 0; s < sizes.manyRoomSenders; s++) {
    for (let k = 0; k < rooms.length; k++) {
      const user = layout.senderBase + k * sizes.manyRoomSenders + s;
      routes.push({ sender: target.createSender(server.url, tokenOf(user)), roomId: rooms[k] ?? "" });
    }
  }
  await Promise.all(routes.map((r) => r.sender.ready));

  const warm = deliveries.startPhase(perRoom);
  await sendOpenLoop(deliveries, warm, routes, sizes.manyRoomsWarmRate, sizes.manyRoomsWarmMs);
  await drain(warm, 1_000);

  const gcFrom = await heapPoint(ctx, server, "many-rooms-start", { gc: false });
  const phase = deliveries.startPhase(perRoom);
  const cpuMeter = meterCpu(ctx, server);
  const phaseStart = performance.now();
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const { settled } = await sendOpenLoop(deliveries, phase, routes, sizes.manyRoomsRate, sizes.manyRoomsMs);
  await Promise.race([settled, sleep(2_000)]);
  await drain(phase, 2_000);
  const cpu = cpuMeter();
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const generatorGc = generatorGcSince(phaseStart);
  const gcTo = await heapPoint(ctx, server, "many-rooms-end", { gc: false });
  if (gcFrom && gcTo) ctx.log(`  ${target.label} many rooms: GC in the phase ${gcBetween(gcFrom, gcTo)}`);
  const latency = phase.samples.summary(phase.expected);
  const seconds = sizes.manyRoomsMs / 1000;
  for (const sub of subs) sub.close();
  for (const route of routes) route.sender.close();
  const result: ManyRoomsResult = {
    rooms: rooms.length,
    subscribers: subs.length,
    senders: routes.length,
    offeredPerSecond: sizes.manyRoomsRate,
    persistedPerSecond: round(phase.acked / seconds, 0),
    deliveredPerSecond: round(latency.count / seconds, 0),
    p50: round(latency.p50),
    p99: round(latency.p99),
    missing: latency.expected - latency.count,
    sendErrors: phase.sendErrors,
    deliveriesPerCpuSecond: round(latency.count / Math.max(0.01, cpu.serverCpuSeconds), 0),
    cpu,
    monotonicUs: [fromUs, toUs],
    indexes: [phase.firstIndex, phase.endIndex],
  };
  ctx.log(
    `  ${target.label} many rooms: ${result.persistedPerSecond} persisted/s, ${result.deliveredPerSecond} delivered/s, p50 ${result.p50} p99 ${result.p99} ms, ${cpuLine(cpu)}, ${generatorGc}`,
  );
  return result;
}
