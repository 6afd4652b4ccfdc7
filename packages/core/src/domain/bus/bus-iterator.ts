import type { EventBus } from "./event-bus.ts";

/**
 * Subscribes to a topic at once and buffers what arrives until read: a subscription can
 * subscribe first, read its backlog from the database, then drain this without a gap.
 */
export function subscribeBuffered<T>(bus: EventBus, topic: string, signal: AbortSignal | undefined) {
  const buffer: T[] = [];
  let wake: (() => void) | null = null;
  let ended = signal?.aborted ?? false;
  const unsubscribe = bus.subscribe(topic, (event) => {
    buffer.push(event as T);
    wake?.();
  });
  const onAbort = () => {
    ended = true;
    wake?.();
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  return {
    /** Resolves with everything buffered (waiting if empty), or null once aborted. */
    async take(): Promise<T[] | null> {
      while (buffer.length === 0 && !ended) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      if (ended) return null;
      return buffer.splice(0);
    },
    close() {
      ended = true;
      unsubscribe();
      signal?.removeEventListener("abort", onAbort);
      wake?.();
    },
  };
}
