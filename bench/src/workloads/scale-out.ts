import { execFileSync } from "node:child_process";
import { startRedisServer } from "@parley/testing/redis-server";
import * as parley from "../clients/parley.ts";
import type { BenchContext } from "../context.ts";
import { tokenOf } from "../database.ts";
import { Deliveries, drain, openSubscriptions, type Route, sendOpenLoop, sleep } from "../load.ts";
import { processCpuSeconds } from "../proc.ts";
import { type ServerProcess, spawnServer, waitUntilIdle } from "../server-process.ts";
import { round } from "../stats.ts";

export interface ScaleOutCase {
  workload: "one room" | "many rooms";
  instances: number;
  subscribers: number;
  rate: number;
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  missing: number;
  sendErrors: number;
  /** CPU of every Parley instance together. */
  deliveriesPerServerCpuSecond: number;
  /** Redis's own CPU (INFO cpu) per message sent: the bus, and the rate limits that live there too. */
  redisUsPerMessage: number | null;
}

export interface ScaleOutResult {
  cases: ScaleOutCase[];
}

// Below every server's one-instance ceiling in workloads 1 and 2, so that p99 compares the path
// (one hop more through Redis) rather than which configuration saturates first.
const ONE_ROOM_RATE = 40;
const SAMPLE_EVERY = 20;

function redisCpuSeconds(port: number): number {
  const info = execFileSync("redis-cli", ["-p", String(port), "INFO", "cpu"], { encoding: "utf8" });
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field("used_cpu_sys") + field("used_cpu_user");
}

function redisPid(port: number): number {
  const info = execFileSync("redis-cli", ["-p", String(port), "INFO", "server"], { encoding: "utf8" });
  return Number(/process_id:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

/**
 * One measured case: subscribers and senders spread round-robin over the instances (subscriber i
 * on instance i mod n, so every room has members on each), a fixed open-loop rate.
 */
async function measure(
  ctx: BenchContext,
  servers: ServerProcess[],
  workload: ScaleOutCase["workload"],
  redisPort: number | null,
): Promise<ScaleOutCase> {
  const { sizes, layout } = ctx;
  const deliveries = new Deliveries(ctx.newRun());
  const urlOf = (i: number) => servers[i % servers.length]?.url ?? "";
  const oneRoom = workload === "one room";
  const perRoom = sizes.manyRoomSubscribers;
  const rooms = oneRoom ? [layout.fanoutRoom] : layout.manyRooms.slice(0, sizes.manyRooms);
  const count = oneRoom ? sizes.fanoutSubscribers : rooms.length * perRoom;
  const sampled = (i: number) => !oneRoom || i % SAMPLE_EVERY === 0;
  const subs = await openSubscriptions(count, 100, (i) =>
    parley.subscribe({
      url: urlOf(i),
      token: tokenOf(i),
      roomId: (oneRoom ? rooms[0] : rooms[Math.floor(i / perRoom)]) ?? "",
      onMessage: deliveries.onMessage,
      onCount: sampled(i) ? undefined : deliveries.onCount,
    }),
  );
  let sampledCount = 0;
  for (let i = 0; i < count; i++) if (sampled(i)) sampledCount++;
  const receivers = oneRoom ? sampledCount : perRoom;
  const counters = oneRoom ? count - sampledCount : 0;
  const routes: Route[] = [];
  if (oneRoom) {
    for (let s = 0; s < sizes.fanoutSenders; s++)
      routes.push({
        sender: parley.createSender(urlOf(s), tokenOf(layout.senderBase + s)),
        roomId: layout.fanoutRoom,
      });
  } else {
    for (let s = 0; s < sizes.manyRoomSenders; s++)
      for (let k = 0; k < rooms.length; k++)
        routes.push({
          sender: parley.createSender(
            urlOf(k + s),
            tokenOf(layout.senderBase + k * sizes.manyRoomSenders + s),
          ),
          roomId: rooms[k] ?? "",
        });
  }
  await Promise.all(routes.map((r) => r.sender.ready));
  const rate = oneRoom ? ONE_ROOM_RATE : sizes.manyRoomsRate;

  const warm = deliveries.startPhase(receivers, counters);
  await sendOpenLoop(deliveries, warm, routes, Math.min(rate, 40), 1_000);
  await drain(warm, 1_000);

  const phase = deliveries.startPhase(receivers, counters);
  const serverCpuBefore = servers.map((s) => processCpuSeconds(s.pid));
  const redisBefore = redisPort === null ? 0 : redisCpuSeconds(redisPort);
  const { settled } = await sendOpenLoop(deliveries, phase, routes, rate, sizes.scaleOutMs);
  await Promise.race([settled, sleep(1_500)]);
  await drain(phase, 1_500);
  const serverCpu = servers.reduce(
    (sum, s, i) => sum + processCpuSeconds(s.pid) - (serverCpuBefore[i] ?? 0),
    0,
  );
  const redisCpu = redisPort === null ? null : redisCpuSeconds(redisPort) - redisBefore;
  for (const sub of subs) sub.close();
  for (const route of routes) route.sender.close();

  const latency = phase.samples.summary(phase.expected);
  const delivered = latency.count + phase.counted;
  const seconds = sizes.scaleOutMs / 1000;
  const result: ScaleOutCase = {
    workload,
    instances: servers.length,
    subscribers: count,
    rate,
    deliveredPerSecond: round(delivered / seconds, 0),
    p50: round(latency.p50),
    p99: round(latency.p99),
    missing: latency.expected + phase.expectedCounted - delivered,
    sendErrors: phase.sendErrors,
    deliveriesPerServerCpuSecond: round(delivered / Math.max(0.01, serverCpu), 0),
    redisUsPerMessage: redisCpu === null ? null : round((redisCpu * 1e6) / Math.max(1, phase.sent), 1),
  };
  ctx.log(
    `  scale-out, ${workload}, ${servers.length} instance(s): ${result.deliveredPerSecond} deliveries/s, p50 ${result.p50} p99 ${result.p99} ms, ${result.deliveriesPerServerCpuSecond} per server CPU-s${result.redisUsPerMessage === null ? "" : `, Redis ${result.redisUsPerMessage} µs per message`}`,
  );
  for (const server of servers) await waitUntilIdle(server, 5_000);
  return result;
}

/**
 * Workload 8: Parley alone, one instance (in-process bus) against two instances on one Redis,
 * one room and many rooms. Both instances share core 0 here (two cores in all): this measures
 * what the second hop costs (latency, CPU per delivery, Redis per message), not the capacity two
 * machines would add.
 */
export async function runScaleOut(ctx: BenchContext, instances: 1 | 2): Promise<ScaleOutResult> {
  const redis = instances > 1 ? await startRedisServer() : null;
  const servers: ServerProcess[] = [];
  try {
    // Redis beside the generator and PostgreSQL, off the servers' core.
    if (redis) execFileSync("taskset", ["-pc", "1", String(redisPid(redis.port))], { stdio: "ignore" });
    for (let i = 0; i < instances; i++)
      servers.push(await spawnServer("parley", { port: 0, databaseUrl: ctx.db.url, redisUrl: redis?.url }));
    const oneRoom = await measure(ctx, servers, "one room", redis?.port ?? null);
    const manyRooms = await measure(ctx, servers, "many rooms", redis?.port ?? null);
    return { cases: [oneRoom, manyRooms] };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await redis?.destroy();
  }
}
