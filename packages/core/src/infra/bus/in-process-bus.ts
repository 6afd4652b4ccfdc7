import type { Logger } from "pino";
import type { EventBus } from "../../domain/bus/event-bus.ts";
import { createTopicHandlers } from "./topic-handlers.ts";

/** The single-instance bus: a map from topic to handlers. */
export function createInProcessBus(log?: Logger): EventBus {
  const handlers = createTopicHandlers(log);
  return {
    async publish(topic, event) {
      handlers.deliver(topic, event);
    },
    subscribe(topic, handler) {
      return handlers.add(topic, handler);
    },
    async ready() {
      return true;
    },
    async close() {
      handlers.clear();
    },
  };
}
