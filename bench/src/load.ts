import { PerformanceObserver } from "node:perf_hooks";
import type { Sender, Subscription } from "./clients/types.ts";
import { type Marker, markerText } from "./marker.ts";
import { Samples } from "./stats.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A full collection in the load generator before each phase; with the flags the bench script
 * gives the generator, none follows inside a phase (each phase's line says: `generatorGcSince`).
 * - A fixed 64 MB young generation (`--min-semi-space-size=64 --max-semi-space-size=64`): V8
 *   shrinks a growable one after the full collection, and the phase then scavenged for 2–10 ms.
 * - `--no-incremental-marking`: V8 starts marking the old generation early when its headroom is
 *   smaller than the young generation can promote in one scavenge ("Start (task): 23MB / 92MB"
 *   with 21 MB live), so a 64 MB young generation made that happen in most of Parley's
 *   many-rooms phases: a 7–15 ms pause, charged to the server's p99. Without incremental
 *   marking the old generation is collected only at its limit, which no phase reaches after the
 *   full collection before it.
 * - `--no-memory-reducer`: the module loader's thread (tsx) ran two 12–18 ms "reduce"
 *   collections on the generator's core about 16 s after start, inside a phase.
 * Parley's typed client allocates about twice what socket.io-client does per send, so these
 * pauses landed in Parley's phases and hardly ever in the peer's.
 */
export function collectGeneratorGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * One subscriber in SAMPLE_EVERY reads the marker and keeps its latency; the rest only count
 * frames. Percentiles over a 1-in-20 sample of a 500-socket room still rest on thousands of
 * deliveries per step (the fan-out workloads and the slow consumer), and the generator's cost per
 * delivery falls to the WebSocket framing.
 */
export const SAMPLE_EVERY = 20;

/**
 * The generator's own GC pauses (kind: 1 minor, 2 major, 4 incremental marking, 8 weak callbacks).
 * One major GC shows as several pauses (its marking, finalisation and weak callbacks): the log's
 * "major" counts those pauses.
 */
const generatorGcs: { start: number; duration: number; kind: number }[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    // `detail` is on Node's GC entries, not in PerformanceEntry's type.
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    generatorGcs.push({ start: entry.startTime, duration: entry.duration, kind });
  }
  if (generatorGcs.length > 10_000) generatorGcs.splice(0, 5_000);
}).observe({ entryTypes: ["gc"] });

/** The generator's GC pauses since `fromMs` (performance.now()), for a phase's log line: its p99 includes them. */
export function generatorGcSince(fromMs: number): string {
  const since = generatorGcs.filter((gc) => gc.start >= fromMs);
  const majors = since.filter((gc) => gc.kind !== 1).length;
  const longest = Math.round(Math.max(0, ...since.map((gc) => gc.duration)) * 10) / 10;
  return `generator GC ${since.length} (${majors} major, longest ${longest} ms)`;
}

/** Messages of one measured interval: their index range, what was sent, what arrived and when. */
export class Phase {
  samples = new Samples();
  sent = 0;
  acked = 0;
  sendErrors = 0;
  open = true;
  firstIndex: number;
  endIndex: number;
  /** Frames of counting subscribers while the phase was open (see Deliveries.onCount). */
  counted = 0;
  private readonly countedBefore: number;

  constructor(
    firstIndex: number,
    /** How many sampled subscribers (marker read, latency kept) should receive each message. */
    readonly receiversPerMessage: number,
    private readonly deliveries: Deliveries,
    /** How many counting subscribers (frames counted, nothing read) should receive each message. */
    readonly countersPerMessage = 0,
  ) {
    this.firstIndex = firstIndex;
    this.endIndex = firstIndex;
    this.countedBefore = deliveries.counted;
  }

  get expected(): number {
    return this.sent * this.receiversPerMessage;
  }

  get expectedCounted(): number {
    return this.sent * this.countersPerMessage;
  }

  /** Counting subscribers' frames so far (frozen when the phase closes). */
  get countedNow(): number {
    return this.open ? this.deliveries.counted - this.countedBefore : this.counted;
  }

  close(): void {
    this.counted = this.deliveries.counted - this.countedBefore;
    this.open = false;
  }
}

/**
 * Receives every subscriber's markers. Latency is receive time minus the message's intended
 * send time (open loop): a server that stalls delays every message scheduled meanwhile.
 */
export class Deliveries {
  phases: Phase[] = [];
  nextIndex = 0;
  late = 0;
  foreign = 0;
  /**
   * Data frames received by counting subscribers. They read no marker (so no latency and no
   * phase of their own): a phase takes the difference between its start and its close, which is
   * exact as long as phases are drained before the next starts.
   */
  counted = 0;
  /** Every delivery of this run, with its receive time (performance.now()): --wire-many-rooms. */
  observe?: (marker: Marker, receivedMs: number) => void;

  constructor(readonly run: number) {}

  readonly onMessage = (marker: Marker): void => {
    if (marker.run !== this.run) {
      this.foreign++;
      return;
    }
    const now = performance.now();
    this.observe?.(marker, now);
    for (let p = this.phases.length - 1; p >= 0; p--) {
      const phase = this.phases[p];
      if (!phase || marker.index < phase.firstIndex) continue;
      if (marker.index < phase.endIndex && phase.open) phase.samples.push(now - marker.intendedMs);
      else this.late++;
      return;
    }
  };

  /**
   * A counting subscriber's callback: one increment per data frame, so that most subscribers of
   * a large room cost the load generator only the WebSocket framing.
   */
  readonly onCount = (): void => {
    this.counted++;
  };

  startPhase(receiversPerMessage: number, countersPerMessage = 0): Phase {
    collectGeneratorGarbage();
    const phase = new Phase(this.nextIndex, receiversPerMessage, this, countersPerMessage);
    this.phases.push(phase);
    return phase;
  }
}

export interface Route {
  sender: Sender;
  roomId: string;
}

/**
 * Sends `rate` messages per second for `durationMs`, round-robin over the routes, at precomputed
 * intended times, never waiting for a reply before the next (open loop). Resolves when the last
 * one is sent; `settled` when every reply is in.
 */
export async function sendOpenLoop(
  deliveries: Deliveries,
  phase: Phase,
  routes: Route[],
  rate: number,
  durationMs: number,
): Promise<{ settled: Promise<void> }> {
  const count = Math.max(1, Math.round((rate * durationMs) / 1000));
  const interval = 1000 / rate;
  const start = performance.now() + 5;
  const replies: Promise<void>[] = [];
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < count && start + i * interval <= now) {
        const intended = start + i * interval;
        const index = deliveries.nextIndex++;
        phase.endIndex = deliveries.nextIndex;
        const route = routes[i % routes.length];
        i++;
        if (!route) continue;
        phase.sent++;
        replies.push(
          route.sender
            .send(route.roomId, markerText(deliveries.run, index, intended), `r${deliveries.run}-${index}`)
            .then(
              () => {
                phase.acked++;
              },
              () => {
                phase.sendErrors++;
              },
            ),
        );
      }
      if (i >= count) return resolve();
      setTimeout(tick, Math.max(0, start + i * interval - performance.now()));
    };
    setTimeout(tick, 5);
  });
  return { settled: Promise.all(replies).then(() => {}) };
}

/** Waits until the phase has all its deliveries, or `timeoutMs`, then closes it. */
export async function drain(phase: Phase, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (
    (phase.samples.length < phase.expected || phase.countedNow < phase.expectedCounted) &&
    performance.now() < deadline
  )
    await sleep(20);
  phase.close();
}

/** Opens subscriptions `concurrency` at a time; resolves with them once all are subscribed. */
export async function openSubscriptions(
  count: number,
  concurrency: number,
  open: (i: number) => Subscription,
): Promise<Subscription[]> {
  const subs: Subscription[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const sub = open(i);
      subs[i] = sub;
      await sub.ready;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return subs;
}
