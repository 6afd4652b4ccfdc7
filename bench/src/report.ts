import type { ServerKind } from "./server-process.ts";
import type { ColdStartResult } from "./workloads/cold-start.ts";
import type { FanoutResult } from "./workloads/fanout.ts";
import type { HistoryResult } from "./workloads/history.ts";
import type { IdleResult } from "./workloads/idle.ts";
import type { ManyRoomsResult } from "./workloads/many-rooms.ts";
import type { StormResult } from "./workloads/reconnect-storm.ts";
import type { SlowConsumerResult } from "./workloads/slow-consumer.ts";

export type PerServer<T> = Partial<Record<ServerKind, T | { error: string }>>;

export interface BenchResults {
  meta: {
    startedAt: string;
    wallSeconds: number;
    quick: boolean;
    node: string;
    cores: number;
    cpuModel: string;
    pinning: string;
    subscriberClients: string;
    latency: string;
  };
  fanout: PerServer<FanoutResult>;
  manyRooms: PerServer<ManyRoomsResult>;
  history: PerServer<HistoryResult>;
  idle: PerServer<IdleResult>;
  coldStart: ColdStartResult[];
  storm: PerServer<StormResult>;
  slowConsumer: PerServer<SlowConsumerResult>;
}

const kinds: ServerKind[] = ["parley", "socketio", "floor"];

function ok<T>(value: T | { error: string } | undefined): T | undefined {
  if (value === undefined || (typeof value === "object" && value !== null && "error" in value))
    return undefined;
  return value as T;
}

const fmt = (value: number | undefined | null, digits = 0): string => {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  if (!Number.isFinite(value)) return "∞";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
};

interface Row {
  workload: string;
  metric: string;
  values: Record<ServerKind, number | undefined>;
  /** higher: more is better; lower: less is better; none: reported, not judged. */
  better: "higher" | "lower" | "none";
  digits?: number;
  /** Parley against the floor: the least ratio (higher) or the most (lower) that meets the target. */
  floorTarget?: number;
  /** Whether beating the peer is a target for this row. */
  peerTarget?: boolean;
  /** Values from a phase marked invalid (other processes or the generator were the limit). */
  invalid?: Partial<Record<ServerKind, boolean>>;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0 || !Number.isFinite(a) || !Number.isFinite(b))
    return undefined;
  return a / b;
}

function verdict(row: Row): string {
  const p = row.values.parley;
  const s = row.values.socketio;
  const f = row.values.floor;
  const parts: string[] = [];
  if (row.better === "none") return "";
  const beats = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && (row.better === "higher" ? a > b : a < b);
  if (row.peerTarget) {
    if (p !== undefined && s !== undefined && p === s) parts.push("level with peer ➖");
    else parts.push(beats(p, s) ? "ahead of peer ✅" : "behind peer ❌");
  }
  if (row.floorTarget !== undefined) {
    const r = ratio(p, f);
    const met = r !== undefined && (row.better === "higher" ? r >= row.floorTarget : r <= row.floorTarget);
    parts.push(`${row.better === "higher" ? "≥" : "≤"} ${row.floorTarget}× floor ${met ? "✅" : "❌"}`);
  }
  return parts.join(", ");
}

export function summaryRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  const invalidIn = <T extends { cpu: { valid: boolean } }>(source: PerServer<T>) =>
    Object.fromEntries(kinds.map((k) => [k, ok(source[k])?.cpu.valid === false])) as Record<
      ServerKind,
      boolean
    >;
  const per = <T>(source: PerServer<T>, pick: (t: T) => number | undefined) =>
    Object.fromEntries(
      kinds.map((k) => [
        k,
        (() => {
          const v = ok(source[k]);
          return v === undefined ? undefined : pick(v);
        })(),
      ]),
    ) as Record<ServerKind, number | undefined>;

  rows.push({
    workload: "1 fan-out",
    metric: "highest msgs/s with p99 < 100 ms",
    values: per(r.fanout, (x) => x.best?.rate ?? 0),
    better: "higher",
    peerTarget: true,
    floorTarget: 0.8,
  });
  rows.push({
    workload: "1 fan-out",
    metric: "… of which bounded by the load generator (1 = the server's ceiling is higher)",
    values: per(r.fanout, (x) => (x.generatorBound ? 1 : 0)),
    better: "none",
  });
  rows.push({
    workload: "1 fan-out",
    metric: "deliveries per server CPU-second at 20 msgs/s",
    values: per(r.fanout, (x) => x.steps.find((s) => s.rate === 20)?.deliveriesPerCpuSecond),
    better: "higher",
    peerTarget: true,
    floorTarget: 0.8,
  });
  rows.push({
    workload: "1 fan-out",
    metric: "deliveries/s there",
    values: per(r.fanout, (x) => x.best?.deliveredPerSecond ?? 0),
    better: "higher",
  });
  rows.push({
    workload: "1 fan-out",
    metric: "deliveries per server CPU-second there",
    values: per(r.fanout, (x) => x.best?.deliveriesPerCpuSecond),
    better: "higher",
  });
  rows.push({
    workload: "2 many rooms",
    metric: "persisted msgs/s (offered: see detail)",
    values: per(r.manyRooms, (x) => x.persistedPerSecond),
    invalid: invalidIn(r.manyRooms),
    better: "higher",
    peerTarget: true,
    floorTarget: 0.8,
  });
  rows.push({
    workload: "2 many rooms",
    metric: "delivered msgs/s",
    values: per(r.manyRooms, (x) => x.deliveredPerSecond),
    invalid: invalidIn(r.manyRooms),
    better: "higher",
  });
  rows.push({
    workload: "2 many rooms",
    metric: "p50 ms",
    values: per(r.manyRooms, (x) => x.p50),
    invalid: invalidIn(r.manyRooms),
    better: "lower",
    digits: 1,
  });
  rows.push({
    workload: "2 many rooms",
    metric: "p99 ms",
    values: per(r.manyRooms, (x) => x.p99),
    invalid: invalidIn(r.manyRooms),
    better: "lower",
    digits: 1,
    peerTarget: true,
  });
  rows.push({
    workload: "2 many rooms",
    metric: "deliveries per server CPU-second",
    values: per(r.manyRooms, (x) => x.deliveriesPerCpuSecond),
    invalid: invalidIn(r.manyRooms),
    better: "higher",
    peerTarget: true,
    floorTarget: 0.8,
  });
  rows.push({
    workload: "3 history",
    metric: "requests/s",
    values: per(r.history, (x) => x.requestsPerSecond),
    invalid: invalidIn(r.history),
    better: "higher",
    peerTarget: true,
    floorTarget: 0.8,
  });
  rows.push({
    workload: "3 history",
    metric: "p99 ms",
    values: per(r.history, (x) => x.p99),
    invalid: invalidIn(r.history),
    better: "lower",
    digits: 1,
    peerTarget: true,
  });
  rows.push({
    workload: "3 history",
    metric: "requests per server CPU-second",
    values: per(r.history, (x) => x.requestsPerCpuSecond),
    invalid: invalidIn(r.history),
    better: "higher",
  });
  rows.push({
    workload: "4 idle",
    metric: "server RSS KiB per connection",
    values: per(r.idle, (x) => x.rssPerConnectionKiB),
    better: "lower",
    digits: 1,
    peerTarget: true,
    floorTarget: 1.5,
  });
  rows.push({
    workload: "4 idle",
    metric: "seconds to connect + subscribe all",
    values: per(r.idle, (x) => x.connectSeconds),
    better: "lower",
    digits: 1,
  });
  const cold = (label: string, database: string) =>
    r.coldStart.find((c) => c.server === label && c.database === database)?.medianMs;
  rows.push({
    workload: "5 cold start",
    metric: "ms to /readyz, PostgreSQL",
    values: {
      parley: cold("Parley", "PostgreSQL"),
      socketio: cold("Socket.IO peer", "PostgreSQL"),
      floor: cold("Floor (ws + pg)", "PostgreSQL"),
    },
    better: "lower",
    peerTarget: true,
  });
  rows.push({
    workload: "5 cold start",
    metric: "ms to /readyz, PGlite",
    values: { parley: cold("Parley", "PGlite"), socketio: undefined, floor: undefined },
    better: "none",
  });
  rows.push({
    workload: "6 reconnect storm",
    metric: "ms from kill until all resumed",
    values: per(r.storm, (x) => x.allResumedAfterKillMs),
    better: "lower",
    peerTarget: true,
  });
  rows.push({
    workload: "6 reconnect storm",
    metric: "replay-table scans after the kill (catch-up queries)",
    values: per(r.storm, (x) => x.catchUpQueries),
    better: "none",
  });
  rows.push({
    workload: "6 reconnect storm",
    metric: "lost: holes (a later message arrived)",
    values: per(r.storm, (x) => x.holes),
    better: "lower",
    peerTarget: true,
  });
  rows.push({
    workload: "6 reconnect storm",
    metric: "not received by the end (subscriber still behind)",
    values: per(r.storm, (x) => x.behind),
    better: "lower",
    peerTarget: true,
  });
  rows.push({
    workload: "6 reconnect storm",
    metric: "duplicated",
    values: per(r.storm, (x) => x.duplicated),
    better: "lower",
    peerTarget: true,
  });
  rows.push({
    workload: "7 slow consumer",
    metric: "server RSS growth MiB",
    values: per(r.slowConsumer, (x) => x.growthMiB),
    invalid: invalidIn(r.slowConsumer),
    better: "lower",
    digits: 1,
    peerTarget: true,
  });
  rows.push({
    workload: "7 slow consumer",
    metric: "others' p99 ms",
    values: per(r.slowConsumer, (x) => x.othersP99),
    invalid: invalidIn(r.slowConsumer),
    better: "lower",
    digits: 1,
    peerTarget: true,
  });
  return rows;
}

function cell(row: Row, kind: ServerKind, digits: number): string {
  return `${fmt(row.values[kind], digits)}${row.invalid?.[kind] ? " ⚠" : ""}`;
}

export function markdown(r: BenchResults): string {
  const lines: string[] = [];
  const m = r.meta;
  lines.push(`# Parley benchmarks${m.quick ? " (--quick: small counts, not comparable)" : ""}`);
  lines.push("");
  lines.push(
    `${m.startedAt}, ${m.wallSeconds} s wall. Node ${m.node}, ${m.cores} × ${m.cpuModel}. ${m.pinning} ${m.subscriberClients} ${m.latency}`,
  );
  lines.push("");
  lines.push(
    "| workload | metric | Parley | Socket.IO peer | Floor | Parley / peer | Parley / floor | target |",
  );
  lines.push("|---|---|--:|--:|--:|--:|--:|---|");
  for (const row of summaryRows(r)) {
    const d = row.digits ?? 0;
    lines.push(
      `| ${row.workload} | ${row.metric} | ${cell(row, "parley", d)} | ${cell(row, "socketio", d)} | ${cell(row, "floor", d)} | ${fmt(ratio(row.values.parley, row.values.socketio), 2)} | ${fmt(ratio(row.values.parley, row.values.floor), 2)} | ${verdict(row)} |`,
    );
  }
  lines.push("");
  lines.push("## 1 fan-out ladder");
  lines.push("");
  lines.push(
    "| server | msgs/s | p50 ms | p99 ms | deliveries/s | per server CPU-s | server CPU | generator CPU | PostgreSQL CPU | valid |",
  );
  lines.push("|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
  for (const k of kinds) {
    const f = ok(r.fanout[k]);
    if (!f) continue;
    for (const s of f.steps) {
      lines.push(
        `| ${k} | ${s.rate} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${fmt(s.deliveredPerSecond)} | ${fmt(s.deliveriesPerCpuSecond)} | ${fmt(s.cpu.serverCpu * 100)}% | ${fmt(s.cpu.generatorCpu * 100)}% | ${fmt(s.cpu.postgresCpu * 100)}% | ${s.cpu.valid ? "yes" : "no"}${s.cpu.note ? `: ${s.cpu.note}` : ""} |`,
      );
    }
  }
  lines.push("");
  lines.push("## Detail");
  lines.push("");
  for (const k of kinds) {
    const mr = ok(r.manyRooms[k]);
    if (mr)
      lines.push(
        `- 2 many rooms, ${k}: ${mr.rooms} rooms × ${mr.subscribers / mr.rooms} subscribers, ${mr.senders} senders, offered ${mr.offeredPerSecond} msgs/s; persisted ${mr.persistedPerSecond}/s, delivered ${mr.deliveredPerSecond}/s, missing ${mr.missing}, send errors ${mr.sendErrors}; server CPU ${fmt(mr.cpu.serverCpu * 100)}%, generator ${fmt(mr.cpu.generatorCpu * 100)}%, PostgreSQL ${fmt(mr.cpu.postgresCpu * 100)}%${mr.cpu.valid ? "" : " INVALID"}${mr.cpu.note ? ` (${mr.cpu.note})` : ""}`,
      );
  }
  for (const k of kinds) {
    const h = ok(r.history[k]);
    if (h)
      lines.push(
        `- 3 history, ${k}: concurrency ${h.concurrency}, ${h.requestsPerSecond} req/s, p50 ${h.p50} ms, p99 ${h.p99} ms, errors ${h.errors}; server CPU ${fmt(h.cpu.serverCpu * 100)}%, generator ${fmt(h.cpu.generatorCpu * 100)}%, PostgreSQL ${fmt(h.cpu.postgresCpu * 100)}%${h.cpu.valid ? "" : " INVALID"}${h.cpu.note ? ` (${h.cpu.note})` : ""}`,
      );
  }
  for (const k of kinds) {
    const i = ok(r.idle[k]);
    if (i)
      lines.push(
        `- 4 idle, ${k}: ${i.sockets} sockets, RSS ${i.rssBeforeMiB} → ${i.rssAfterMiB} MiB after GC, ${i.rssPerConnectionKiB} KiB per connection (JS heap ${i.heapPerConnectionKiB} KiB), connected in ${i.connectSeconds} s`,
      );
  }
  // All as plain `node` on a bundle (Parley: its production entry, `pnpm start`'s; the peers: bundled
  // by the same esbuild), spawned pinned to CPU 0 against a database they have never seen.
  for (const c of r.coldStart)
    lines.push(
      `- 5 cold start, ${c.server} on ${c.database}: ${c.runsMs.join(", ")} ms (\`${c.command ?? "node --import tsx (before the production build)"}\`)`,
    );
  for (const k of kinds) {
    const s = ok(r.storm[k]);
    if (s)
      lines.push(
        `- 6 reconnect storm, ${k}: ${s.subscribers} subscribers (${s.realClients} through the client library) at ${s.rate} msgs/s; restart ${s.restartMs} ms; ${s.resumed} raw subscribers resumed, all within ${s.allResumedAfterKillMs} ms of the kill (${s.allResumedAfterReadyMs} ms after ready, median ${s.medianResumedAfterReadyMs} ms); ${s.catchUpQueries} catch-up queries; ${s.stored} messages stored, ${s.lost} not received (${s.holes} holes in ${s.subscribersWithHoles} subscribers' streams, ${s.behind} after the last message a subscriber got: not caught up when observation ended), ${s.duplicated} duplicated; ${s.sendErrors} sends refused while down; ${s.subscriptionErrors} subscription errors${s.errorSample[0] ? ` (e.g. \`${s.errorSample[0].slice(0, 200)}\`)` : ""}`,
      );
  }
  for (const k of kinds) {
    const s = ok(r.slowConsumer[k]);
    if (s)
      lines.push(
        `- 7 slow consumer, ${k}: ${s.subscribers} subscribers, ${s.rate} msgs/s for ${s.seconds} s; RSS ${s.rssStartMiB} → max ${s.rssMaxMiB} (end ${s.rssEndMiB}) MiB; others p50 ${s.othersP50} ms, p99 ${s.othersP99} ms, missing ${s.othersMissing}; paused socket ${s.slowSocketClosed ? "closed by the server" : "left open"}; server CPU ${fmt(s.cpu.serverCpu * 100)}%, generator ${fmt(s.cpu.generatorCpu * 100)}%${s.cpu.valid ? "" : " INVALID"}${s.cpu.note ? ` (${s.cpu.note})` : ""}`,
      );
  }
  for (const [name, source] of Object.entries({
    fanout: r.fanout,
    manyRooms: r.manyRooms,
    history: r.history,
    idle: r.idle,
    storm: r.storm,
    slowConsumer: r.slowConsumer,
  })) {
    for (const k of kinds) {
      const v = (source as PerServer<unknown>)[k];
      if (v && typeof v === "object" && "error" in (v as object))
        lines.push(`- ${name}, ${k}: FAILED: ${(v as { error: string }).error}`);
    }
  }
  lines.push("");
  return lines.join("\n");
}
