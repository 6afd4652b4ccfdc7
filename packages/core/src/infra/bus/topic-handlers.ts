import type { Logger } from "pino";

type Handler = (event: unknown) => void;

/**
 * This instance's subscribers by topic, for both buses. A handler that throws is logged and the
 * others still receive the event.
 */
export function createTopicHandlers(log?: Logger) {
  const handlers = new Map<string, Set<Handler>>();
  return {
    deliver(topic: string, event: unknown) {
      const set = handlers.get(topic);
      if (!set) return;
      // A copy: a handler may unsubscribe itself (or another) while the event is delivered.
      for (const handler of [...set]) {
        try {
          handler(event);
        } catch (error) {
          log?.error({ err: error, topic }, "bus handler failed");
        }
      }
    },
    /**
     * Adds a handler; `firstAdded` runs when the topic had none, `lastRemoved` when the returned
     * unsubscribe leaves it with none.
     */
    add(topic: string, handler: Handler, hooks: { firstAdded?(): void; lastRemoved?(): void } = {}) {
      let set = handlers.get(topic);
      if (!set) {
        set = new Set();
        handlers.set(topic, set);
        hooks.firstAdded?.();
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        // After clear() the topic may have a new set of its own: not this one to remove.
        if (set.size > 0 || handlers.get(topic) !== set) return;
        handlers.delete(topic);
        hooks.lastRemoved?.();
      };
    },
    topics: () => handlers.keys(),
    clear: () => handlers.clear(),
  };
}
