import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { type EventBus, RESYNC_EVENT } from "../../domain/bus/event-bus.ts";
import { markPlainJson } from "../../domain/plain-json.ts";
import { createTopicHandlers } from "./topic-handlers.ts";

interface Envelope {
  from: string;
  event: unknown;
}

/**
 * The bus across instances: Redis pub/sub, one channel per topic, subscribed only while this
 * instance has a subscriber. Events are delivered to local subscribers at once and to others
 * through Redis (skipping our own echo), so a Redis outage never stops local delivery; what other
 * instances missed is stored in PostgreSQL, and RESYNC_EVENT tells their streams to read it.
 */
export function createRedisBus(url: string, log: Logger): EventBus & { redis: Redis } {
  const instanceId = randomUUID();
  const options = {
    // Commands fail fast during an outage instead of queueing without bound.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times: number) => Math.min(2_000, 100 * 2 ** times),
    lazyConnect: false,
  };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
  const handlers = createTopicHandlers(log);
  let lostConnection = false;

  for (const [name, client] of [
    ["publisher", publisher],
    ["subscriber", subscriber],
  ] as const) {
    client.on("error", (error) => log.warn({ err: error, client: name }, "redis error"));
  }
  subscriber.on("close", () => {
    lostConnection = true;
  });
  subscriber.on("ready", () => {
    if (!lostConnection) return;
    lostConnection = false;
    log.info("redis is back: resynchronising subscribers from the database");
    for (const topic of handlers.topics()) handlers.deliver(topic, RESYNC_EVENT);
  });

  subscriber.on("message", (channel: string, message: string) => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message) as Envelope;
    } catch {
      log.warn({ channel }, "ignored a malformed bus message");
      return;
    }
    if (envelope.from === instanceId) return;
    // Parsed from JSON, so plain JSON: room events fan out without re-encoding.
    if (typeof envelope.event === "object" && envelope.event !== null) markPlainJson(envelope.event);
    handlers.deliver(channel, envelope.event);
  });

  return {
    redis: publisher,
    async publish(topic, event) {
      handlers.deliver(topic, event);
      const envelope: Envelope = { from: instanceId, event };
      try {
        await publisher.publish(topic, JSON.stringify(envelope));
      } catch (error) {
        log.warn(
          { err: error, topic },
          "redis publish failed: other instances will resync from the database",
        );
      }
    },
    subscribe(topic, handler) {
      return handlers.add(topic, handler, {
        firstAdded: () =>
          subscriber
            .subscribe(topic)
            .catch((error: unknown) => log.warn({ err: error, topic }, "redis subscribe failed")),
        lastRemoved: () =>
          subscriber.unsubscribe(topic).catch(() => {
            // The connection is gone: nothing is subscribed anyway.
          }),
      });
    },
    async ready() {
      return publisher.status === "ready" && subscriber.status === "ready";
    },
    async close() {
      handlers.clear();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
