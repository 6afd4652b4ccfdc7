import { describe, expect, it } from "vitest";
import { subscribeBuffered } from "../../domain/bus/bus-iterator.ts";
import { createInProcessBus } from "./in-process-bus.ts";

describe("in-process bus", () => {
  it("wakes only the subscribers of the topic an event is published on", async () => {
    const bus = createInProcessBus();
    const roomA: unknown[] = [];
    const roomB: unknown[] = [];
    bus.subscribe("room:a", (e) => roomA.push(e));
    bus.subscribe("room:b", (e) => roomB.push(e));
    await bus.publish("room:a", 1);
    expect(roomA).toEqual([1]);
    expect(roomB).toEqual([]);
  });

  it("stops calling a handler once it unsubscribes, and survives a throwing handler", async () => {
    const bus = createInProcessBus();
    const seen: unknown[] = [];
    bus.subscribe("t", () => {
      throw new Error("handler bug");
    });
    const unsubscribe = bus.subscribe("t", (e) => seen.push(e));
    await bus.publish("t", 1);
    unsubscribe();
    await bus.publish("t", 2);
    expect(seen).toEqual([1]);
  });

  it("buffers events that arrive before they are taken, and ends on abort", async () => {
    const bus = createInProcessBus();
    const controller = new AbortController();
    const buffered = subscribeBuffered<number>(bus, "t", controller.signal);
    await bus.publish("t", 1);
    await bus.publish("t", 2);
    expect(await buffered.take()).toEqual([1, 2]);
    const waiting = buffered.take();
    await bus.publish("t", 3);
    expect(await waiting).toEqual([3]);
    const ended = buffered.take();
    controller.abort();
    expect(await ended).toBeNull();
    buffered.close();
  });
});
