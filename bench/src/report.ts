import type { ServerKind } from "./server-process.ts";
import { median } from "./stats.ts";
import type { ColdStartResult } from "./workloads/cold-start.ts";
import type { FanoutResult } from "./workloads/fanout.ts";
import type { HistoryResult } from "./workloads/history.ts";
import type { IdleResult } from "./workloads/idle.ts";
import type { ManyRoomsResult } from "./workloads/many-rooms.ts";
import type { StormResult } from "./workloads/reconnect-storm.ts";
import type { ScaleOutCase, ScaleOutResult } from "./workloads/scale-out.ts";
import type { SlowConsumerResult } from "./workloads/slow-consumer.ts";

/** One entry per repeat, in the order they ran (servers interleaved within each repeat). */
export type PerServer<T> = Partial<Record<ServerKind, Array<T | { error: string }>>>;

export interface BenchResults {
  meta: {
    startedAt: string;
    wallSeconds: number;
    /** Wall seconds per workload (absent in results saved before they were kept). */
    workloadSeconds?: Record<string, number>;
    quick: boolean;
    repeats: number;
    /** The load generator's Node. */
    node: string;
    /** The servers' Node (absent in results saved before it was kept: the generator's then). */
    serverNode?: string;
    cores: number;
    cpuModel: string;
    pinning: string;
    subscriberClients: string;
    latency: string;
  };
  fanout: PerServer<FanoutResult>;
  fanoutLarge: PerServer<FanoutResult>;
  manyRooms: PerServer<ManyRoomsResult>;
  history: PerServer<HistoryResult>;
  idle: PerServer<IdleResult>;
  coldStart: ColdStartResult[];
  storm: PerServer<StormResult>;
  slowConsumer: PerServer<SlowConsumerResult>;
  /** Workload 8, Parley only: one entry per repeat and configuration, interleaved (1, 2, 1, 2, …). */
  scaleOut?: Array<ScaleOutResult | { error: string }>;
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

/** A figure per repeat (undefined where that repeat failed). */
type Repeated = (number | undefined)[];

interface Row {
  workload: string;
  metric: string;
  values: Record<ServerKind, Repeated>;
  /** higher: more is better; lower: less is better; none: reported, not judged. */
  better: "higher" | "lower" | "none";
  digits?: number;
  /** Parley against the floor: the least ratio (higher) or the most (lower) that meets the target. */
  floorTarget?: number;
  /**
   * Against the peer: `true`, ahead of it (medians compared); a number, the least ratio (higher)
   * or the most (lower) that meets issue 16's target, judged like the floor's, on paired ratios.
   */
  peerTarget?: true | number;
  /** Values from a phase marked invalid (other processes or the generator were the limit). */
  invalid?: Partial<Record<ServerKind, boolean>>;
  /**
   * A fan-out ladder that failed every step has no ceiling: its 0 means "below this", the figure
   * of the lowest step it failed (noCeilingBelow), per server and repeat. A ratio over such a 0 is
   * then a lower bound, Parley's figure over that step (the median shown as "≥ r").
   */
  belowWhenZero?: Record<ServerKind, Repeated>;
}

/**
 * a / b. An infinite figure is a p99 with undelivered messages: a finite one over it is 0 (Parley
 * delivered everything and the other server did not), infinite over finite is ∞, ∞ over ∞ unknown.
 */
function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b === 0) return undefined;
  if (!Number.isFinite(a) && !Number.isFinite(b)) return undefined;
  return a / b;
}

interface Spread {
  median: number | undefined;
  min: number | undefined;
  max: number | undefined;
  n: number;
}

function spreadOf(values: Repeated): Spread {
  const known = values.filter((v): v is number => v !== undefined && !Number.isNaN(v));
  if (known.length === 0) return { median: undefined, min: undefined, max: undefined, n: 0 };
  return { median: median(known), min: Math.min(...known), max: Math.max(...known), n: known.length };
}

/**
 * Parley against another server, repeat by repeat: the servers ran one after the other within
 * each repeat, so pairing by repeat keeps a slow minute on the machine on both sides of a ratio.
 * Also whether any ratio is a lower bound: a repeat where the other server's ladder failed every
 * step and Parley's did not (belowWhenZero). The median of lower bounds is a lower bound of
 * the median, so a target it meets is met.
 */
function rowRatios(row: Row, other: "socketio" | "floor"): { ratios: Repeated; bound: boolean } {
  let bound = false;
  const ratios = row.values.parley.map((p, i) => {
    const o = row.values[other][i];
    const below = row.belowWhenZero?.[other][i];
    if (o === 0 && below !== undefined && below > 0 && p !== undefined && p > 0) {
      bound = true;
      return p / below;
    }
    return ratio(p, o);
  });
  return { ratios, bound };
}

function ratioText(row: Row, other: "socketio" | "floor"): string {
  const { ratios, bound } = rowRatios(row, other);
  return `${bound ? "≥ " : ""}${spreadText(ratios, 2)}`;
}

function verdict(row: Row): string {
  const p = spreadOf(row.values.parley).median;
  const s = spreadOf(row.values.socketio).median;
  const parts: string[] = [];
  if (row.better === "none") return "";
  const beats = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && (row.better === "higher" ? a > b : a < b);
  const against = (other: "socketio" | "floor", target: number, name: string) => {
    const r = spreadOf(rowRatios(row, other).ratios).median;
    const met = r !== undefined && (row.better === "higher" ? r >= target : r <= target);
    return `${row.better === "higher" ? "≥" : "≤"} ${target}× ${name} ${met ? "✅" : "❌"}`;
  };
  if (typeof row.peerTarget === "number") parts.push(against("socketio", row.peerTarget, "peer"));
  else if (row.peerTarget) {
    if (p !== undefined && s !== undefined && p === s) parts.push("level with peer ➖");
    else parts.push(beats(p, s) ? "ahead of peer ✅" : "behind peer ❌");
  }
  if (row.floorTarget !== undefined) parts.push(against("floor", row.floorTarget, "floor"));
  return parts.join(", ");
}

/**
 * A ladder with no ceiling (every step failed): the lowest rate it failed on a valid measurement,
 * which its ceiling is below. None when a step was the load generator's failure, not the server's.
 */
function noCeilingBelow(x: FanoutResult): number | undefined {
  if (x.best) return undefined;
  const failed = x.steps.filter((s) => s.cpu.valid && !s.pass).map((s) => s.rate);
  return failed.length > 0 ? Math.min(...failed) : undefined;
}

export function summaryRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  const invalidIn = <T extends { cpu: { valid: boolean } }>(source: PerServer<T>) =>
    Object.fromEntries(
      kinds.map((k) => [k, (source[k] ?? []).some((v) => ok(v)?.cpu.valid === false)]),
    ) as Record<ServerKind, boolean>;
  const per = <T>(source: PerServer<T>, pick: (t: T) => number | undefined) =>
    Object.fromEntries(
      kinds.map((k) => [
        k,
        (source[k] ?? []).map((entry) => {
          const v = ok(entry);
          return v === undefined ? undefined : pick(v);
        }),
      ]),
    ) as Record<ServerKind, Repeated>;
  const fanoutRows = (source: PerServer<FanoutResult>, label: string) => {
    rows.push({
      workload: label,
      metric: "highest msgs/s with p99 < 100 ms (median of the repeats' ceilings)",
      // A ladder stopped by other processes measured nothing: left out, not counted as 0.
      values: per(source, (x) => (x.disturbed ? undefined : (x.best?.rate ?? 0))),
      invalid: Object.fromEntries(
        kinds.map((k) => [k, (source[k] ?? []).some((v) => ok(v)?.disturbed === true)]),
      ) as Record<ServerKind, boolean>,
      better: "higher",
      peerTarget: 1.2,
      floorTarget: 0.9,
      belowWhenZero: per(source, (x) => noCeilingBelow(x)),
    });
    rows.push({
      workload: label,
      metric: "… of which bounded by the load generator (1 = the server's ceiling is higher)",
      values: per(source, (x) => (x.generatorBound ? 1 : 0)),
      better: "none",
    });
    rows.push({
      workload: label,
      metric: "deliveries/s at the ceiling",
      values: per(source, (x) => (x.disturbed ? undefined : (x.best?.deliveredPerSecond ?? 0))),
      better: "higher",
      belowWhenZero: per(source, (x) => {
        const below = noCeilingBelow(x);
        return below === undefined ? undefined : below * x.subscribers;
      }),
    });
    rows.push({
      workload: label,
      metric: "deliveries per server CPU-second there",
      values: per(source, (x) => x.best?.deliveriesPerCpuSecond),
      better: "higher",
    });
    rows.push({
      workload: label,
      metric: "server CPU µs per delivery there",
      values: per(source, (x) => x.best?.serverUsPerDelivery),
      better: "lower",
      digits: 2,
    });
    rows.push({
      workload: label,
      metric: "load generator CPU µs per delivery there (must stay well below the server's)",
      values: per(source, (x) => x.best?.generatorUsPerDelivery),
      better: "none",
      digits: 2,
    });
  };

  fanoutRows(r.fanout, "1 fan-out, 500 subscribers");
  rows.push({
    workload: "1 fan-out, 500 subscribers",
    metric: "deliveries per server CPU-second at 20 msgs/s",
    values: per(r.fanout, (x) => x.steps.find((s) => s.rate === 20)?.deliveriesPerCpuSecond),
    better: "higher",
    peerTarget: true,
    floorTarget: 0.8,
  });
  fanoutRows(r.fanoutLarge ?? {}, "1b fan-out, 5,000 subscribers");
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
    peerTarget: 1,
  });
  rows.push({
    workload: "2 many rooms",
    metric: "deliveries per server CPU-second",
    values: per(r.manyRooms, (x) => x.deliveriesPerCpuSecond),
    invalid: invalidIn(r.manyRooms),
    better: "higher",
    peerTarget: 1,
  });
  rows.push({
    workload: "3 history",
    metric: "requests/s",
    values: per(r.history, (x) => x.requestsPerSecond),
    invalid: invalidIn(r.history),
    better: "higher",
    peerTarget: 1.2,
    floorTarget: 1,
  });
  rows.push({
    workload: "3 history",
    metric: "p99 ms",
    values: per(r.history, (x) => x.p99),
    invalid: invalidIn(r.history),
    better: "lower",
    digits: 1,
    peerTarget: 1,
  });
  rows.push({
    workload: "3 history",
    metric: "requests per server CPU-second",
    values: per(r.history, (x) => x.requestsPerCpuSecond),
    invalid: invalidIn(r.history),
    better: "higher",
    peerTarget: 1.2,
    floorTarget: 1,
  });
  rows.push({
    workload: "4 idle",
    metric: "server RSS KiB per connection",
    values: per(r.idle, (x) => x.rssPerConnectionKiB),
    better: "lower",
    digits: 1,
    peerTarget: true,
    floorTarget: 1.3,
  });
  rows.push({
    workload: "4 idle",
    metric: "seconds to connect + subscribe all",
    values: per(r.idle, (x) => x.connectSeconds),
    better: "lower",
    digits: 1,
  });
  const cold = (label: string, database: string, restart = false) =>
    r.coldStart.find((c) => c.server === label && c.database === database && (c.restart ?? false) === restart)
      ?.runsMs ?? [];
  rows.push({
    workload: "5 cold start",
    metric: "ms to /readyz, PostgreSQL",
    values: {
      parley: cold("Parley", "PostgreSQL"),
      socketio: cold("Socket.IO peer", "PostgreSQL"),
      floor: cold("Floor (ws + pg)", "PostgreSQL"),
    },
    better: "lower",
    peerTarget: 1.5,
  });
  rows.push({
    workload: "5 cold start",
    metric: "ms to /readyz, PostgreSQL, restart on a migrated database",
    values: {
      parley: cold("Parley", "PostgreSQL", true),
      socketio: cold("Socket.IO peer", "PostgreSQL", true),
      floor: cold("Floor (ws + pg)", "PostgreSQL", true),
    },
    better: "lower",
  });
  rows.push({
    workload: "5 cold start",
    metric: "ms to /readyz, PGlite",
    values: { parley: cold("Parley", "PGlite"), socketio: [], floor: [] },
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
    peerTarget: 2,
  });
  rows.push({
    workload: "7 slow consumer",
    metric: "others' p99 ms",
    values: per(r.slowConsumer, (x) => x.othersP99),
    invalid: invalidIn(r.slowConsumer),
    better: "lower",
    digits: 1,
    peerTarget: 1,
  });
  return rows;
}

/** The median, and the spread (min–max) when there was more than one repeat. */
export function spreadText(values: Repeated, digits: number): string {
  const s = spreadOf(values);
  if (s.n <= 1 || s.min === s.max) return fmt(s.median, digits);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

function cell(row: Row, kind: ServerKind, digits: number): string {
  const values = row.values[kind];
  const below = row.belowWhenZero?.[kind].filter((b): b is number => b !== undefined) ?? [];
  // Every repeat's ladder failed every step: "below" its lowest failure, not a measured 0.
  const text =
    values.length > 0 && values.every((v) => v === 0) && below.length > 0
      ? `< ${fmt(Math.min(...below), digits)}`
      : spreadText(values, digits);
  return `${text}${row.invalid?.[kind] ? " ⚠" : ""}`;
}

export function markdown(r: BenchResults): string {
  const lines: string[] = [];
  const m = r.meta;
  lines.push(`# Parley benchmarks${m.quick ? " (--quick: small counts, not comparable)" : ""}`);
  lines.push("");
  lines.push(
    `${m.startedAt}, ${m.wallSeconds} s wall. Servers on Node ${m.serverNode ?? m.node}, the load generator on Node ${m.node}, ${m.cores} × ${m.cpuModel}. ${m.pinning} ${m.subscriberClients} ${m.latency}`,
  );
  lines.push("");
  if (m.workloadSeconds && Object.keys(m.workloadSeconds).length > 0) {
    lines.push(
      `Wall time per workload (s): ${Object.entries(m.workloadSeconds)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}.`,
    );
    lines.push("");
  }
  lines.push(
    "| workload | metric | Parley | Socket.IO peer | Floor | Parley / peer | Parley / floor | target |",
  );
  lines.push("|---|---|--:|--:|--:|--:|--:|---|");
  for (const row of summaryRows(r)) {
    const d = row.digits ?? 0;
    lines.push(
      `| ${row.workload} | ${row.metric} | ${cell(row, "parley", d)} | ${cell(row, "socketio", d)} | ${cell(row, "floor", d)} | ${ratioText(row, "socketio")} | ${ratioText(row, "floor")} | ${verdict(row)} |`,
    );
  }
  lines.push("");
  lines.push(
    `Each phase ran ${m.repeats ?? 1} time(s), the servers interleaved within each repeat (Parley, peer, floor, Parley, …). A cell is the median of the repeats, with the spread (min–max) in brackets; a ratio is the median of the per-repeat ratios (each repeat's Parley figure over the same repeat's peer or floor figure). The fan-out ceiling is each repeat's own ladder (stopped at its first failing step, then the gap between the last pass and the failure halved up to three times); the reported ceiling is the median of those, i.e. a rate at least two of three ladders passed, so one p99 spike in one repeat does not decide it. A ladder that failed every step has no ceiling: a server with none in every repeat shows "< rate" (the lowest rate it failed), and a ratio over such a repeat is a lower bound, Parley's ceiling over that rate; a median ratio with one in it is shown "≥ r", a lower bound of the median, on which the target is judged. The target column: a ratio ("≥ 1.2× peer") is issue 16's target, judged on the median ratio; "ahead of peer" compares the medians. ⚠: a repeat was disturbed (other processes or the generator were the limit).`,
  );
  lines.push("");
  const ladder = (title: string, source: PerServer<FanoutResult>) => {
    lines.push(`## ${title}`);
    lines.push("");
    lines.push(
      "| server | repeat | msgs/s | p50 ms | p99 ms | deliveries/s | per server CPU-s | server µs/delivery | generator µs/delivery | server CPU | generator CPU | PostgreSQL CPU | valid |",
    );
    lines.push("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    for (const k of kinds) {
      for (const [i, entry] of (source[k] ?? []).entries()) {
        const f = ok(entry);
        if (!f) continue;
        for (const s of f.steps) {
          lines.push(
            `| ${k} | ${i + 1} | ${s.rate} | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${fmt(s.deliveredPerSecond)} | ${fmt(s.deliveriesPerCpuSecond)} | ${fmt(s.serverUsPerDelivery, 2)} | ${fmt(s.generatorUsPerDelivery, 2)} | ${fmt(s.cpu.serverCpu * 100)}% | ${fmt(s.cpu.generatorCpu * 100)}% | ${fmt(s.cpu.postgresCpu * 100)}% | ${s.cpu.valid ? "yes" : "no"}${s.cpu.note ? `: ${s.cpu.note}` : ""} |`,
          );
        }
        lines.push(
          `| ${k} | ${i + 1} | ceiling ${f.best?.rate ?? "none"} | | | | | | | | | | ${f.subscribers} subscribers (${f.sampledSubscribers ?? f.subscribers} sampled); stopped by ${f.stoppedBy} |`,
        );
      }
    }
    lines.push("");
  };
  ladder("1 fan-out ladder, 500 subscribers", r.fanout);
  ladder("1b fan-out ladder, 5,000 subscribers", r.fanoutLarge ?? {});
  const scaleOut = (r.scaleOut ?? []).flatMap((entry) => ok(entry)?.cases ?? []);
  if (scaleOut.length > 0) {
    lines.push("## 8 scale-out (Parley: one instance on the in-process bus, one on Redis, two on one Redis)");
    lines.push("");
    lines.push(
      "Both instances share core 0 (Redis, the generator and PostgreSQL core 1): this shows what the Redis hop and the split cost, not the capacity a second machine adds. Subscribers and senders alternate between the instances, so every room has members on both, and so do the sampled subscribers. Deliveries/s are at a fixed offered rate (below every configuration's ceiling), so p99 and CPU per delivery are the comparison. Redis µs per message is its CPU above idle over the phase; PUBLISH is the part INFO commandstats charges to that command (the rest: writing to the subscribed instances' sockets, the send rate limits). PostgreSQL CPU per message rises above the one-instance figure when instances fill gaps: an event of another instance that arrives after a later local one makes the room stream read room_events. Median (min–max) of the repeats; ⚠: a repeat disturbed twice by other processes.",
    );
    lines.push("");
    lines.push(
      "| workload | instances | bus | subscribers | msgs/s offered | deliveries/s | p50 ms | p99 ms | deliveries per server CPU-s (all instances) | PostgreSQL CPU µs per message | Redis CPU µs per message | of which PUBLISH | Redis CPU, % of a core | missing |",
    );
    lines.push("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    const busOf = (c: ScaleOutCase) => c.bus ?? (c.instances > 1 ? "redis" : "in-process");
    for (const workload of ["one room", "many rooms"] as const) {
      for (const [instances, bus] of [
        [1, "in-process"],
        [1, "redis"],
        [2, "redis"],
      ] as const) {
        const cases = scaleOut.filter(
          (c) => c.workload === workload && c.instances === instances && busOf(c) === bus,
        );
        const first = cases[0];
        if (!first) continue;
        const col = (pick: (c: ScaleOutCase) => number | null | undefined, digits = 0) =>
          spreadText(
            cases.map((c) => pick(c) ?? undefined),
            digits,
          );
        const redisCol = (pick: (c: ScaleOutCase) => number | null | undefined, digits = 1) =>
          bus === "redis" ? col(pick, digits) : "–";
        lines.push(
          `| ${workload} | ${instances} | ${bus} | ${first.subscribers} | ${first.rate} | ${col((c) => c.deliveredPerSecond)} | ${col((c) => c.p50, 1)} | ${col((c) => c.p99, 1)}${cases.some((c) => c.disturbed) ? " ⚠" : ""} | ${col((c) => c.deliveriesPerServerCpuSecond)} | ${col((c) => c.postgresUsPerMessage)} | ${redisCol((c) => c.redisUsPerMessage)} | ${redisCol((c) => c.redisPublishUsPerMessage)} | ${redisCol((c) => (c.redisCpu == null ? null : c.redisCpu * 100), 0)} | ${col((c) => c.missing)} |`,
        );
      }
    }
    lines.push("");
  }
  lines.push("## Detail");
  lines.push("");
  const each = <T>(source: PerServer<T>, use: (label: string, value: T) => void) => {
    for (const k of kinds) {
      for (const [i, entry] of (source[k] ?? []).entries()) {
        const v = ok(entry);
        if (v) use(`${k} #${i + 1}`, v);
      }
    }
  };
  each(r.manyRooms, (k, mr) =>
    lines.push(
      `- 2 many rooms, ${k}: ${mr.rooms} rooms × ${mr.subscribers / mr.rooms} subscribers, ${mr.senders} senders, offered ${mr.offeredPerSecond} msgs/s; persisted ${mr.persistedPerSecond}/s, delivered ${mr.deliveredPerSecond}/s, missing ${mr.missing}, send errors ${mr.sendErrors}; server CPU ${fmt(mr.cpu.serverCpu * 100)}%, generator ${fmt(mr.cpu.generatorCpu * 100)}%, PostgreSQL ${fmt(mr.cpu.postgresCpu * 100)}%${mr.cpu.valid ? "" : " INVALID"}${mr.cpu.note ? ` (${mr.cpu.note})` : ""}`,
    ),
  );
  each(r.history, (k, h) =>
    lines.push(
      `- 3 history, ${k}: concurrency ${h.concurrency}, ${h.requestsPerSecond} req/s, p50 ${h.p50} ms, p99 ${h.p99} ms, errors ${h.errors}; server CPU ${fmt(h.cpu.serverCpu * 100)}%, generator ${fmt(h.cpu.generatorCpu * 100)}%, PostgreSQL ${fmt(h.cpu.postgresCpu * 100)}%${h.cpu.valid ? "" : " INVALID"}${h.cpu.note ? ` (${h.cpu.note})` : ""}`,
    ),
  );
  each(r.idle, (k, i) =>
    lines.push(
      `- 4 idle, ${k}: ${i.sockets} sockets, RSS ${i.rssBeforeMiB} → ${i.rssAfterMiB} MiB after GC, ${i.rssPerConnectionKiB} KiB per connection (JS heap ${i.heapPerConnectionKiB} KiB${
        i.heapTotalPerConnectionKiB === undefined
          ? ""
          : `, committed ${i.heapTotalPerConnectionKiB} (${Object.entries(i.spacesPerConnectionKiB ?? {})
              .map(([space, kib]) => `${space} ${kib}`)
              .join(", ")}; written to: ${Object.entries(i.physicalSpacesPerConnectionKiB ?? {})
              .map(([space, kib]) => `${space} ${kib}`)
              .join(", ")}), external ${i.externalPerConnectionKiB}`
      }), connected in ${i.connectSeconds} s`,
    ),
  );
  // All as plain `node` on a bundle (Parley: its production entry, `pnpm start`'s; the peers: bundled
  // by the same esbuild), spawned pinned to CPU 0 against a database they have never seen.
  for (const c of r.coldStart)
    lines.push(
      `- 5 cold start, ${c.server} on ${c.database}${c.restart ? ", restart on its migrated database" : ""}: ${c.runsMs.join(", ")} ms${c.cpuMs ? ` (server CPU ${c.cpuMs.join(", ")} ms)` : ""} (\`${c.command ?? "node --import tsx (before the production build)"}\`${c.node ? ` on Node ${c.node}` : ""})`,
    );
  each(r.storm, (k, s) =>
    lines.push(
      `- 6 reconnect storm, ${k}: ${s.subscribers} subscribers (${s.realClients} through the client library) at ${s.rate} msgs/s; restart ${s.restartMs} ms; ${s.resumed} raw subscribers resumed, all within ${s.allResumedAfterKillMs} ms of the kill (${s.allResumedAfterReadyMs} ms after ready, median ${s.medianResumedAfterReadyMs} ms); ${s.catchUpQueries} catch-up queries; ${s.stored} messages stored, ${s.lost} not received (${s.holes} holes in ${s.subscribersWithHoles} subscribers' streams, ${s.behind} after the last message a subscriber got: not caught up when observation ended), ${s.duplicated} duplicated; ${s.sendErrors} sends refused while down; ${s.subscriptionErrors} subscription errors${s.errorSample[0] ? ` (e.g. \`${s.errorSample[0].slice(0, 200)}\`)` : ""}`,
    ),
  );
  each(r.slowConsumer, (k, s) =>
    lines.push(
      `- 7 slow consumer, ${k}: ${s.subscribers} subscribers, ${s.rate} msgs/s for ${s.seconds} s; RSS ${s.rssStartMiB} → max ${s.rssMaxMiB} (end ${s.rssEndMiB}) MiB; others p50 ${s.othersP50} ms, p99 ${s.othersP99} ms, missing ${s.othersMissing}; paused socket ${s.slowSocketClosed ? "closed by the server" : "left open"}; server CPU ${fmt(s.cpu.serverCpu * 100)}%, generator ${fmt(s.cpu.generatorCpu * 100)}%${s.cpu.valid ? "" : " INVALID"}${s.cpu.note ? ` (${s.cpu.note})` : ""}`,
    ),
  );
  for (const [name, source] of Object.entries({
    fanout: r.fanout,
    fanoutLarge: r.fanoutLarge ?? {},
    manyRooms: r.manyRooms,
    history: r.history,
    idle: r.idle,
    storm: r.storm,
    slowConsumer: r.slowConsumer,
  })) {
    for (const k of kinds) {
      for (const [i, v] of ((source as PerServer<unknown>)[k] ?? []).entries()) {
        if (v && typeof v === "object" && "error" in v)
          lines.push(`- ${name}, ${k} #${i + 1}: FAILED: ${(v as { error: string }).error}`);
      }
    }
  }
  lines.push("");
  return lines.join("\n");
}
