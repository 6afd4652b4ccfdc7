import type { Logger } from "pino";
import type { EventBus } from "../../domain/bus/event-bus.ts";

/** The single-instance bus: a map from topic to handlers. */
export function createInProcessBus(log?: Logger): EventBus {
  const handlers = new Map<string, Set<(event: unknown) => void>>();
  return {
    async publish(topic, event) {
      const set = handlers.get(topic);
      if (!set) return;
      for (const handler of [...set]) {
        try {
          handler(event);
        } catch (error) {
          log?.error({ err: error, topic }, "bus handler failed");
        }
      }
    },
    subscribe(topic, handler) {
      let set = handlers.get(topic);
      if (!set) {
        set = new Set();
        handlers.set(topic, set);
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        if (set.size === 0) handlers.delete(topic);
      };
    },
    async ready() {
      return true;
    },
    async close() {
      handlers.clear();
    },
  };
}
