import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BenchContext, cpuLine } from "./context.ts";
import { summarise } from "./profile-summary.ts";
import { spawnServer } from "./server-process.ts";
import { targets } from "./targets.ts";
import { runFanout } from "./workloads/fanout.ts";
import { runHistory } from "./workloads/history.ts";
import { runManyRooms } from "./workloads/many-rooms.ts";

/** Parley started with --cpu-prof writing into `dir`, emptied first. */
async function startProfiledParley(ctx: BenchContext, dir: string) {
  // Profiles of earlier runs would be summarised instead of this one's.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const parley = targets.find((t) => t.kind === "parley");
  if (!parley) throw new Error("no parley target");
  const server = await spawnServer(
    "parley",
    { port: 0, databaseUrl: ctx.db.url },
    { cpuProfileDir: dir, node: ctx.node },
  );
  return { parley, server };
}

/** The server's profile: the largest .cpuprofile in `dir`. */
function serverProfile(dir: string): string {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!file) throw new Error("the server wrote no profile");
  return file;
}

/**
 * `pnpm bench --profile[=rate,rate]`: workload 1 against Parley started with --cpu-prof, at the
 * given rates (default 20 and 40 msgs/s, 500 subscribers; `--profile-large[=4,12]`: 5,000), then a summary of where the server's
 * CPU time went. The profile file stays in bench/results/profile.tmp/ for a closer look.
 */
export async function profileParley(
  ctx: BenchContext,
  rates: number[],
  dir: string,
  subscribers = ctx.sizes.fanoutSubscribers,
): Promise<string> {
  const { parley, server } = await startProfiledParley(ctx, dir);
  const result = await runFanout(ctx, parley, server, { subscribers, rates });
  await server.stop();
  const file = serverProfile(dir);
  const steps = result.steps
    .map(
      (s) =>
        `${s.rate}/s: p50 ${s.p50} ms, p99 ${s.p99} ms, server CPU ${Math.round(s.cpu.serverCpu * 100)}%`,
    )
    .join("; ");
  const deliveries = result.steps.reduce(
    (sum, s) => sum + s.deliveredPerSecond * (ctx.sizes.fanoutStepMs / 1000),
    0,
  );
  const cpuSeconds = result.steps.reduce((sum, s) => sum + s.cpu.serverCpuSeconds, 0);
  return [
    file,
    `ladder (${result.subscribers} subscribers): ${steps}`,
    `server CPU per delivery over the measured steps: ${((cpuSeconds * 1e6) / Math.max(1, deliveries)).toFixed(1)} µs (${deliveries} deliveries, ${cpuSeconds.toFixed(2)} CPU-s)`,
    summarise(
      JSON.parse(readFileSync(file, "utf8")),
      result.steps.map((s) => s.monotonicUs),
      deliveries,
    ),
  ].join("\n");
}

/** `pnpm bench --profile-history`: workload 3 against Parley under --cpu-prof. */
export async function profileParleyHistory(ctx: BenchContext, dir: string): Promise<string> {
  const { parley, server } = await startProfiledParley(ctx, dir);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await runHistory(ctx, parley, server);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  await server.stop();
  const file = serverProfile(dir);
  const requests = Math.round(result.requestsPerSecond * result.cpu.wallSeconds);
  return [
    file,
    `history: ${result.requestsPerSecond} req/s, p99 ${result.p99} ms, server CPU ${Math.round(result.cpu.serverCpu * 100)}%, ${((result.cpu.serverCpuSeconds * 1e6) / Math.max(1, requests)).toFixed(0)} µs of server CPU per request`,
    // The window includes the one-second warm-up; "per delivery" below reads "per request".
    summarise(JSON.parse(readFileSync(file, "utf8")), [[fromUs, toUs]], requests),
  ].join("\n");
}

/**
 * `pnpm bench --profile-many-rooms[=seconds]`: workload 2 against Parley under --cpu-prof, its
 * measured phase stretched (default 20 s) so that the send path gets enough samples to compare.
 */
export async function profileParleyManyRooms(ctx: BenchContext, dir: string, seconds = 20): Promise<string> {
  const { parley, server } = await startProfiledParley(ctx, dir);
  const longer = { ...ctx, sizes: { ...ctx.sizes, manyRoomsMs: seconds * 1000 } };
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const result = await runManyRooms(longer, parley, server);
  const toUs = Number(process.hrtime.bigint() / 1000n);
  await server.stop();
  const file = serverProfile(dir);
  const deliveries = Math.round(result.deliveredPerSecond * seconds);
  const sends = Math.round(result.persistedPerSecond * seconds);
  const us = (n: number) => ((result.cpu.serverCpuSeconds * 1e6) / Math.max(1, n)).toFixed(1);
  return [
    file,
    `many rooms (${result.rooms} rooms × ${result.subscribers / Math.max(1, result.rooms)} subscribers, ${result.offeredPerSecond} msgs/s, ${seconds} s): p50 ${result.p50} ms, p99 ${result.p99} ms, ${cpuLine(result.cpu)}, ${us(deliveries)} µs per delivery, ${us(sends)} µs per send`,
    // The window includes the subscribe and warm-up seconds; "per delivery" below counts the measured phase's deliveries.
    summarise(JSON.parse(readFileSync(file, "utf8")), [[fromUs, toUs]], deliveries),
  ].join("\n");
}
