import type { BenchContext } from "../context.ts";
import { tokenOf } from "../database.ts";
import { heapPoint } from "../heap.ts";
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
  /** V8's committed heap (what RSS sees of it, fragmentation and the young generation included). */
  heapTotalPerConnectionKiB?: number;
  /** Memory V8 does not manage but is told of (Buffers, ws's and zlib's native parts). */
  externalPerConnectionKiB?: number;
  /** Growth of each V8 heap space's committed memory, KiB per connection (the spaces that moved). */
  spacesPerConnectionKiB?: Record<string, number>;
  /** The same for the memory written to in each space (resident: what RSS counts of it). */
  physicalSpacesPerConnectionKiB?: Record<string, number>;
}

/** KiB per connection by which each space grew, the spaces that did. */
function growthBySpace(before: Record<string, number>, after: Record<string, number>, open: number) {
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, size]) => [name, round((size - (before[name] ?? 0)) / 1024 / open)] as const)
      .filter(([, kib]) => kib !== 0),
  );
}

const MiB = 1024 * 1024;

/** Workload 4: N authenticated sockets, one chat.events subscription each, doing nothing. */
export async function runIdle(ctx: BenchContext, target: Target, server: ServerProcess): Promise<IdleResult> {
  const { sizes, layout } = ctx;
  const perRoom = Math.ceil(layout.subscribers / layout.idleRooms.length);
  // `--heap=snapshots`: what each idle socket keeps, by `pnpm heap:summary` of these two. Writing a
  // snapshot grows the server's RSS by far more than the sockets do: that run's RSS figure is void.
  await heapPoint(ctx, server, "before-4", { snapshot: true });
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
  await heapPoint(ctx, server, "after-4", { snapshot: true });
  const open = subs.filter((s) => s.isOpen()).length;
  for (const sub of subs) sub.close();
  const result: IdleResult = {
    sockets: open,
    connectSeconds: round(connectSeconds, 1),
    rssBeforeMiB: round(before.rss / MiB),
    rssAfterMiB: round(after.rss / MiB),
    rssPerConnectionKiB: round((after.rss - before.rss) / 1024 / open),
    heapPerConnectionKiB: round((after.heapUsed - before.heapUsed) / 1024 / open),
    heapTotalPerConnectionKiB: round((after.heapTotal - before.heapTotal) / 1024 / open),
    externalPerConnectionKiB: round((after.external - before.external) / 1024 / open),
    spacesPerConnectionKiB: growthBySpace(before.spaces, after.spaces, open),
    physicalSpacesPerConnectionKiB: growthBySpace(before.physicalSpaces, after.physicalSpaces, open),
  };
  ctx.log(
    `  ${target.label} idle: ${open} sockets in ${result.connectSeconds} s, RSS ${result.rssBeforeMiB} → ${result.rssAfterMiB} MiB, ${result.rssPerConnectionKiB} KiB/connection (heap used ${result.heapPerConnectionKiB}, committed ${result.heapTotalPerConnectionKiB}, external ${result.externalPerConnectionKiB}; committed by space ${JSON.stringify(result.spacesPerConnectionKiB)}, written to ${JSON.stringify(result.physicalSpacesPerConnectionKiB)})`,
  );
  return result;
}
