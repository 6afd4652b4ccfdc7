import type { Sender, Subscription } from "./clients/types.ts";
import { type Marker, markerText } from "./marker.ts";
import { Samples } from "./stats.ts";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Messages of one measured interval: their index range, what was sent, what arrived and when. */
export class Phase {
  samples = new Samples();
  sent = 0;
  acked = 0;
  sendErrors = 0;
  open = true;
  firstIndex: number;
  endIndex: number;

  constructor(
    firstIndex: number,
    /** How many subscribers should receive each message. */
    readonly receiversPerMessage: number,
  ) {
    this.firstIndex = firstIndex;
    this.endIndex = firstIndex;
  }

  get expected(): number {
    return this.sent * this.receiversPerMessage;
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

  constructor(readonly run: number) {}

  readonly onMessage = (marker: Marker): void => {
    if (marker.run !== this.run) {
      this.foreign++;
      return;
    }
    const now = performance.now();
    for (let p = this.phases.length - 1; p >= 0; p--) {
      const phase = this.phases[p];
      if (!phase || marker.index < phase.firstIndex) continue;
      if (marker.index < phase.endIndex && phase.open) phase.samples.push(now - marker.intendedMs);
      else this.late++;
      return;
    }
  };

  startPhase(receiversPerMessage: number): Phase {
    const phase = new Phase(this.nextIndex, receiversPerMessage);
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
  while (phase.samples.length < phase.expected && performance.now() < deadline) await sleep(20);
  phase.open = false;
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
