import { execFileSync } from "node:child_process";
import { startRedisServer } from "@parley/testing/redis-server";
import * as parley from "../clients/parley.ts";
import type { BenchContext } from "../context.ts";
import { tokenOf } from "../database.ts";
import {
  Deliveries,
  drain,
  openSubscriptions,
  type Route,
  SAMPLE_EVERY,
  sendOpenLoop,
  sleep,
} from "../load.ts";
import { coreTimes, processCpuSeconds, processTreeCpuSeconds } from "../proc.ts";
import { type ServerProcess, spawnServer, waitUntilIdle } from "../server-process.ts";
import { round } from "../stats.ts";

/** One instance on the in-process bus, one on Redis (the hop alone), two on one Redis (the split). */
export type ScaleOutConfig = { instances: 1; bus: "in-process" } | { instances: 1 | 2; bus: "redis" };

export const scaleOutConfigs: ScaleOutConfig[] = [
  { instances: 1, bus: "in-process" },
  { instances: 1, bus: "redis" },
  { instances: 2, bus: "redis" },
];

export interface ScaleOutCase {
  workload: "one room" | "many rooms";
  instances: number;
  /** Absent in results saved before the one-instance-on-Redis case existed: Redis iff 2 instances. */
  bus?: ScaleOutConfig["bus"];
  subscribers: number;
  rate: number;
  deliveredPerSecond: number;
  p50: number;
  p99: number;
  missing: number;
  sendErrors: number;
  /** CPU of every Parley instance together. */
  deliveriesPerServerCpuSecond: number;
  /**
   * Redis's own CPU (INFO cpu) per message sent, less what it burns idle over the same time: the
   * bus (PUBLISH, and writing each message to every subscribed instance) and the send rate limits,
   * which live in Redis too when it is configured.
   */
  redisUsPerMessage: number | null;
  /** Of which PUBLISH (INFO commandstats): grows with the instances subscribed to the room. */
  redisPublishUsPerMessage?: number | null;
  /**
   * PostgreSQL CPU per message sent: the send's statement, plus the reads of instances that saw a
   * gap in a room's seq (a remote event arriving after a later local one) and filled it.
   */
  postgresUsPerMessage?: number;
  /** Redis CPU over the phase, fraction of one core (idle included). */
  redisCpu?: number | null;
  /** Set when other processes used the cores during the phase: the case was run once more. */
  disturbed?: string;
}

export interface ScaleOutResult {
  cases: ScaleOutCase[];
}

// Below every server's one-instance ceiling in workloads 1 and 2, so that p99 compares the path
// (one hop more through Redis) rather than which configuration saturates first.
const ONE_ROOM_RATE = 40;

function redisInfo(port: number, section: string): string {
  return execFileSync("redis-cli", ["-p", String(port), "INFO", section], { encoding: "utf8" });
}

function redisCpuSeconds(port: number): number {
  const info = redisInfo(port, "cpu");
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field("used_cpu_sys") + field("used_cpu_user");
}

/** Microseconds Redis has spent executing PUBLISH so far (INFO commandstats). */
function redisPublishUs(port: number): number {
  const match = /cmdstat_publish:calls=\d+,usec=(\d+)/.exec(redisInfo(port, "commandstats"));
  return Number(match?.[1] ?? 0);
}

/** Redis CPU seconds per wall second with no traffic (its timers, the instances' idle clients). */
async function redisIdleCpu(port: number): Promise<number> {
  const before = redisCpuSeconds(port);
  const started = performance.now();
  await sleep(1_000);
  return (redisCpuSeconds(port) - before) / ((performance.now() - started) / 1000);
}

function redisPid(port: number): number {
  return Number(/process_id:(\d+)/.exec(redisInfo(port, "server"))?.[1] ?? Number.NaN);
}

/**
 * The instance subscriber i connects to. Consecutive subscribers alternate, and each block of
 * SAMPLE_EVERY starts one instance further, so that the sampled subscribers (every
 * SAMPLE_EVERY-th) alternate too: with a plain `i mod n` every sampled subscriber of the one room
 * sat on the first instance and the second instance's latency was never measured.
 */
export const instanceOf = (i: number, instances: number) => (i + Math.floor(i / SAMPLE_EVERY)) % instances;

/**
 * Other processes on the cores during a phase, as in the other workloads' validity check: core 0
 * busier than the instances, or core 1 busier than the generator, PostgreSQL and Redis, by more
 * than a fifth of a core. Returns the reason, or undefined.
 */
function startDisturbanceMeter(serverPids: number[], postgresPid: number, redisPidOrNull: number | null) {
  const wallStart = performance.now();
  const core0 = coreTimes(0);
  const core1 = coreTimes(1);
  const servers = serverPids.map(processCpuSeconds);
  const pg = processTreeCpuSeconds(postgresPid);
  const redis = redisPidOrNull === null ? 0 : processCpuSeconds(redisPidOrNull);
  const self = process.cpuUsage();
  return (): string | undefined => {
    const wall = (performance.now() - wallStart) / 1000;
    const c0 = coreTimes(0);
    const c1 = coreTimes(1);
    const share = (a: typeof core0, b: typeof core0) => (b.busy - a.busy) / Math.max(1, b.total - a.total);
    const serverCpu =
      serverPids.reduce((sum, pid, i) => sum + processCpuSeconds(pid) - (servers[i] ?? 0), 0) / wall;
    const ownCpu = process.cpuUsage(self);
    const oursOn1 =
      (ownCpu.user + ownCpu.system) / 1e6 / wall +
      (processTreeCpuSeconds(postgresPid) - pg) / wall +
      (redisPidOrNull === null ? 0 : (processCpuSeconds(redisPidOrNull) - redis) / wall);
    const othersOn0 = share(core0, c0) - serverCpu;
    const othersOn1 = share(core1, c1) - oursOn1;
    if (othersOn0 > 0.2) return `other processes on core 0 (${Math.round(othersOn0 * 100)}%)`;
    if (othersOn1 > 0.2) return `other processes on core 1 (${Math.round(othersOn1 * 100)}%)`;
    return undefined;
  };
}

interface RedisUnderTest {
  port: number;
  pid: number;
  /** CPU seconds per second it uses with no traffic. */
  idleCpu: number;
}

/**
 * One measured case: subscribers and senders spread over the instances (instanceOf: every room
 * has members on each), a fixed open-loop rate below every configuration's ceiling.
 */
async function measure(
  ctx: BenchContext,
  servers: ServerProcess[],
  config: ScaleOutConfig,
  workload: ScaleOutCase["workload"],
  redis: RedisUnderTest | null,
): Promise<ScaleOutCase> {
  const { sizes, layout } = ctx;
  const deliveries = new Deliveries(ctx.newRun());
  const urlOf = (instance: number) => servers[instance % servers.length]?.url ?? "";
  const oneRoom = workload === "one room";
  const perRoom = sizes.manyRoomSubscribers;
  const rooms = oneRoom ? [layout.fanoutRoom] : layout.manyRooms.slice(0, sizes.manyRooms);
  const count = oneRoom ? sizes.fanoutSubscribers : rooms.length * perRoom;
  const sampled = (i: number) => !oneRoom || i % SAMPLE_EVERY === 0;
  const subs = await openSubscriptions(count, 100, (i) =>
    parley.subscribe({
      url: urlOf(instanceOf(i, servers.length)),
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
  // Up to 3 s: counting subscribers' frames are told apart only by time, so warm-up frames still
  // arriving when the phase opens would be counted as the phase's (seen as negative "missing").
  await drain(warm, 3_000);

  const phase = deliveries.startPhase(receivers, counters);
  const serverCpuBefore = servers.map((s) => processCpuSeconds(s.pid));
  const redisBefore = redis === null ? 0 : redisCpuSeconds(redis.port);
  const publishBefore = redis === null ? 0 : redisPublishUs(redis.port);
  const postgresBefore = processTreeCpuSeconds(ctx.db.postmasterPid());
  const disturbance = startDisturbanceMeter(
    servers.map((s) => s.pid),
    ctx.db.postmasterPid(),
    redis?.pid ?? null,
  );
  const started = performance.now();
  const { settled } = await sendOpenLoop(deliveries, phase, routes, rate, sizes.scaleOutMs);
  await Promise.race([settled, sleep(1_500)]);
  await drain(phase, 1_500);
  const elapsed = (performance.now() - started) / 1000;
  const disturbed = disturbance();
  const serverCpu = servers.reduce(
    (sum, s, i) => sum + processCpuSeconds(s.pid) - (serverCpuBefore[i] ?? 0),
    0,
  );
  const postgresCpu = processTreeCpuSeconds(ctx.db.postmasterPid()) - postgresBefore;
  const redisCpu = redis === null ? null : redisCpuSeconds(redis.port) - redisBefore;
  const publishUs = redis === null ? null : redisPublishUs(redis.port) - publishBefore;
  for (const sub of subs) sub.close();
  for (const route of routes) route.sender.close();

  const latency = phase.samples.summary(phase.expected);
  const delivered = latency.count + phase.counted;
  const seconds = sizes.scaleOutMs / 1000;
  const messages = Math.max(1, phase.sent);
  // At tens of messages a second, Redis's idle cost (its timers, the instances' connections) is
  // of the same order as the traffic's: left in, it made a message look several times dearer.
  const redisTrafficCpu =
    redis === null || redisCpu === null ? null : Math.max(0, redisCpu - redis.idleCpu * elapsed);
  const result: ScaleOutCase = {
    workload,
    instances: servers.length,
    bus: config.bus,
    subscribers: count,
    rate,
    deliveredPerSecond: round(delivered / seconds, 0),
    p50: round(latency.p50),
    p99: round(latency.p99),
    missing: latency.expected + phase.expectedCounted - delivered,
    sendErrors: phase.sendErrors,
    deliveriesPerServerCpuSecond: round(delivered / Math.max(0.01, serverCpu), 0),
    redisUsPerMessage: redisTrafficCpu === null ? null : round((redisTrafficCpu * 1e6) / messages, 1),
    redisPublishUsPerMessage: publishUs === null ? null : round(publishUs / messages, 1),
    postgresUsPerMessage: round((postgresCpu * 1e6) / messages, 0),
    redisCpu: redisCpu === null ? null : round(redisCpu / elapsed, 3),
    ...(disturbed ? { disturbed } : {}),
  };
  ctx.log(
    `  scale-out, ${workload}, ${servers.length} instance(s) on ${config.bus}: ${result.deliveredPerSecond} deliveries/s, p50 ${result.p50} p99 ${result.p99} ms, ${result.deliveriesPerServerCpuSecond} per server CPU-s, PostgreSQL ${result.postgresUsPerMessage} µs per message${result.redisUsPerMessage == null ? "" : `, Redis ${result.redisUsPerMessage} µs per message (PUBLISH ${result.redisPublishUsPerMessage})`}${disturbed ? `, DISTURBED: ${disturbed}` : ""}`,
  );
  for (const server of servers) await waitUntilIdle(server, 5_000);
  return result;
}

/** A case again, once, when other processes used the cores during it (as retryIfDisturbed). */
async function measureUndisturbed(
  ctx: BenchContext,
  servers: ServerProcess[],
  config: ScaleOutConfig,
  workload: ScaleOutCase["workload"],
  redis: RedisUnderTest | null,
): Promise<ScaleOutCase> {
  const first = await measure(ctx, servers, config, workload, redis);
  if (!first.disturbed) return first;
  ctx.log(`  scale-out, ${workload}: disturbed by other processes, once more`);
  return measure(ctx, servers, config, workload, redis);
}

/**
 * Workload 8: Parley alone, one instance on the in-process bus, one on Redis, two on one Redis;
 * one room and many rooms. Both instances share core 0 here (two cores in all): this measures
 * what the hop and the split cost (latency, CPU per delivery, Redis per message), not the
 * capacity two machines would add.
 */
export async function runScaleOut(ctx: BenchContext, config: ScaleOutConfig): Promise<ScaleOutResult> {
  const redisServer = config.bus === "redis" ? await startRedisServer() : null;
  const servers: ServerProcess[] = [];
  try {
    let redis: RedisUnderTest | null = null;
    if (redisServer) {
      const pid = redisPid(redisServer.port);
      // Redis beside the generator and PostgreSQL, off the servers' core; -a: its I/O threads too.
      execFileSync("taskset", ["-a", "-pc", "1", String(pid)], { stdio: "ignore" });
      redis = { port: redisServer.port, pid, idleCpu: 0 };
    }
    for (let i = 0; i < config.instances; i++)
      servers.push(
        await spawnServer(
          "parley",
          { port: 0, databaseUrl: ctx.db.url, redisUrl: redisServer?.url },
          { node: ctx.node },
        ),
      );
    if (redis) redis.idleCpu = await redisIdleCpu(redis.port);
    const oneRoom = await measureUndisturbed(ctx, servers, config, "one room", redis);
    const manyRooms = await measureUndisturbed(ctx, servers, config, "many rooms", redis);
    return { cases: [oneRoom, manyRooms] };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await redisServer?.destroy();
  }
}
