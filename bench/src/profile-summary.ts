import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package, and
 * inclusive time of the functions that matter for fan-out. Usage:
 *   pnpm --filter @parley/bench profile:summary <file.cpuprofile | directory (the largest: the main thread; tsx's loader thread writes a small one)>
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function shortUrl(url: string): string {
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (pnpm) return `${pnpm[1]}/${pnpm[2]}`;
  const ours = /\/work\/[^/]+\/(.*)$/.exec(url) ?? /\/(packages\/.*|apps\/.*|bench\/.*)$/.exec(url);
  if (ours?.[1]) return ours[1];
  return url.replace(/^file:\/\//, "") || "(native)";
}

function packageOf(url: string): string {
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm?.[1]) return pnpm[1];
  const ours = /\/(packages\/[^/]+|apps\/[^/]+|bench)\//.exec(url);
  if (ours?.[1]) return ours[1];
  if (url.startsWith("node:")) return "node core";
  return url === "" ? "(V8/native: GC, idle, program)" : url;
}

/**
 * `windows`: only samples inside these [from, to] CLOCK_MONOTONIC µs intervals count (V8 stamps
 * samples on that clock), e.g. the measured steps of a workload, leaving out start-up.
 */
/** Stages of fan-out, by the function and file a sample's self time was in. First match wins. */
const stages: [string, (fn: string, url: string) => boolean][] = [
  ["GC", (fn) => fn === "(garbage collector)"],
  [
    "kernel write (writev syscall) + node net/stream",
    (fn, url) =>
      /^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/.test(fn) ||
      /^node:(net|internal\/stream_base_commons|internal\/streams\/writable)$/.test(url),
  ],
  ["ws framing (Sender.frame/send)", (_fn, url) => url.includes("/node_modules/ws/")],
  [
    "tRPC response transform (transformTRPCResponse, object spreads)",
    (fn, url) =>
      url.includes("/node_modules/@trpc/server/") &&
      /^(_objectSpread2|_defineProperty|ownKeys|transformTRPCResponse.*|transformResult|_toPropertyKey|_toPrimitive|_typeof)$/.test(
        fn,
      ),
  ],
  [
    "tRPC per-subscription iteration (execute, Unpromise race, nextUnlessStopped)",
    (_fn, url) => url.includes("/node_modules/@trpc/server/"),
  ],
  ["Parley encoder (wire-encoding.ts)", (_fn, url) => url.endsWith("wire-encoding.ts")],
  [
    "Parley generator chain (streamRoomEvents, chat.ts, supervised, bus)",
    (_fn, url) =>
      /(room-streams|router\/chat|src\/trpc|bus-iterator|in-process-bus|room-events)\.ts$/.test(url),
  ],
  [
    "promise / microtask / abort-signal machinery",
    (fn, url) =>
      (/^(runMicrotasks|processTicksAndRejections|\(anonymous\))$/.test(fn) &&
        (url === "" || url.startsWith("node:"))) ||
      url === "node:internal/abort_controller" ||
      url === "node:events",
  ],
  [
    "send path: HTTP, Express, tRPC HTTP, DB (drizzle, pg), zod, lucia",
    (_fn, url) =>
      /\/node_modules\/(drizzle-orm|pg|pg-protocol|pg-pool|pg-types|zod|lucia|@lucia-auth\/[^/]+|express|router|helmet|pino|pino-http|cors|body-parser|type-is|parseurl|superjson|rate-limiter-flexible|on-finished|content-type|qs|raw-body|finalhandler|send|mime-types|media-typer|negotiator|accepts|vary|depd|encodeurl|escape-html|fresh|etag|proxy-addr|forwarded|statuses|http-errors|setprototypeof|iconv-lite|safer-buffer|bytes|unpipe|ee-first|merge-descriptors|cookie|cookie-signature|path-to-regexp|utils-merge|methods|range-parser|serve-static|toidentifier|inherits|debug|ms|object-assign|ipaddr\.js|side-channel.*|call-bind.*|get-intrinsic|has-symbols|function-bind|hasown|es-errors|gopd|dunder-proto|es-object-atoms|es-define-property|math-intrinsics|get-proto|@oslojs\/[^/]+|oslo)\//.test(
        url,
      ) ||
      /^node:(_http_|internal\/http|http|internal\/deps\/undici)/.test(url) ||
      /packages\/(api|db)\/src\/(services\/(messages-service|membership-cache|rooms-service)|rate-limits|context|errors|auth\/session-module|create-db)\.ts$/.test(
        url,
      ),
  ],
];

export function stageOf(fn: string, url: string): string {
  for (const [name, test] of stages) if (test(fn, url)) return name;
  return "other";
}

export function summarise(
  profile: CpuProfile,
  windows: [number, number][] = [],
  deliveries = 0,
  top = 30,
): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const inside = (t: number) => windows.length === 0 || windows.some(([a, b]) => t >= a && t <= b);
  let t = profile.startTime;
  let sampledUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (!inside(t)) continue;
    const id = profile.samples[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    sampledUs += delta;
  }
  const totalUs = windows.length === 0 ? profile.endTime - profile.startTime : sampledUs;
  const idleUs = [...byId.values()]
    .filter((n) => n.callFrame.functionName === "(idle)")
    .reduce((sum, n) => sum + (selfUs.get(n.id) ?? 0), 0);
  const busyUs = totalUs - idleUs;

  const key = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const selfByFunction = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  for (const n of profile.nodes) {
    if (n.callFrame.functionName === "(idle)") continue;
    const us = selfUs.get(n.id) ?? 0;
    selfByFunction.set(key(n), (selfByFunction.get(key(n)) ?? 0) + us);
    const pkg = packageOf(n.callFrame.url);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + us);
  }

  // Inclusive time: a node's self time plus its subtree's, counted once per function per stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (!node) break;
      const name = node.callFrame.functionName || "(anonymous)";
      const k = `${name}  ${shortUrl(node.callFrame.url)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }

  const byStage = new Map<string, number>();
  for (const n of profile.nodes) {
    if (n.callFrame.functionName === "(idle)") continue;
    const us = selfUs.get(n.id) ?? 0;
    if (us === 0) continue;
    const stage = stageOf(n.callFrame.functionName || "(anonymous)", n.callFrame.url);
    byStage.set(stage, (byStage.get(stage) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines: string[] = [];
  lines.push(
    `profile${windows.length ? ` (${windows.length} measured windows)` : ""}: ${(totalUs / 1e6).toFixed(1)} s, busy ${(busyUs / 1e6).toFixed(1)} s (${((100 * busyUs) / totalUs).toFixed(0)}%); percentages are of busy time`,
  );
  lines.push("", `self time by stage${deliveries ? `, µs per delivery (${deliveries} deliveries)` : ""}:`);
  for (const [stage, us] of [...byStage].sort((a, b) => b[1] - a[1]))
    lines.push(
      `${(us / 1000).toFixed(0).padStart(7)} ms ${pct(us)}${deliveries ? `  ${(us / deliveries).toFixed(1).padStart(6)} µs` : ""}  ${stage}`,
    );
  lines.push("", "self time by package:");
  for (const [pkg, us] of [...selfByPackage].sort((a, b) => b[1] - a[1]).slice(0, 15))
    lines.push(`${ms(us)} ${pct(us)}  ${pkg}`);
  lines.push("", `top ${top} functions by self time:`);
  for (const [fn, us] of [...selfByFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`${ms(us)} ${pct(us)}  ${fn}`);
  const interesting =
    /stringify|serialize|encode|respond|send|sendFrame|frame|writev?|Unpromise|race|nextUnlessStopped|streamRoomEvents|take|publish|transformTRPCResponse|isTrackedEnvelope|tracked|parse|query|transaction|validate|createContext|callProcedure/i;
  lines.push("", "inclusive time of selected functions:");
  for (const [fn, us] of [...inclusive]
    .filter(([k]) => interesting.test(k.split("  ")[0] ?? ""))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30))
    lines.push(`${ms(us)} ${pct(us)}  ${fn}`);
  return lines.join("\n");
}

function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  const first = files[0];
  if (!first) throw new Error(`no .cpuprofile in ${path}`);
  return first;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2];
  if (!target) throw new Error("usage: profile-summary <file.cpuprofile | directory>");
  const file = newestProfile(target);
  process.stdout.write(`${file}\n${summarise(JSON.parse(readFileSync(file, "utf8")) as CpuProfile)}\n`);
}
