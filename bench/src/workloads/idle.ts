import type { BenchContext } from "../context.ts";
import { tokenOf } from "../database.ts";
import { openSubscriptions, sleep } from "../load.ts";
import type { ServerProcess } from "../server-process.ts";
import { round } from "../stats.ts";
import type { Target } from "../targets.ts";

export interface IdleResult {
  sockets: number;
  connectSeconds: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  rssPerConnectionKiB: number;
  heapPerConnectionKiB: number;
}

const MiB = 1024 * 1024;

/** Workload 4: N authenticated sockets, one chat.events subscription each, doing nothing. */
export async function runIdle(ctx: BenchContext, target: Target, server: ServerProcess): Promise<IdleResult> {
  const { sizes, layout } = ctx;
  const perRoom = Math.ceil(layout.subscribers / layout.idleRooms.length);
  const before = await server.memoryAfterGc();
  const started = performance.now();
  const subs = await openSubscriptions(sizes.idleSockets, 200, (i) =>
    target.subscribe({
      url: server.url,
      token: tokenOf(i),
      roomId: layout.idleRooms[Math.floor(i / perRoom)] ?? "",
      onMessage: () => {},
    }),
  );
  const connectSeconds = (performance.now() - started) / 1000;
  await sleep(2_000);
  const after = await server.memoryAfterGc();
  const open = subs.filter((s) => s.isOpen()).length;
  for (const sub of subs) sub.close();
  const result: IdleResult = {
    sockets: open,
    connectSeconds: round(connectSeconds, 1),
    rssBeforeMiB: round(before.rss / MiB),
    rssAfterMiB: round(after.rss / MiB),
    rssPerConnectionKiB: round((after.rss - before.rss) / 1024 / open),
    heapPerConnectionKiB: round((after.heapUsed - before.heapUsed) / 1024 / open),
  };
  ctx.log(
    `  ${target.label} idle: ${open} sockets in ${result.connectSeconds} s, RSS ${result.rssBeforeMiB} → ${result.rssAfterMiB} MiB, ${result.rssPerConnectionKiB} KiB/connection (heap ${result.heapPerConnectionKiB})`,
  );
  return result;
}
