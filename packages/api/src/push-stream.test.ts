import { isTrackedEnvelope } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { isPushStream, pushStream, supervisePushStream, type TrackedSink } from "./push-stream.ts";

/** A stream whose producer the test drives by hand. */
function manualStream() {
  let sink: TrackedSink<string> | null = null;
  let stops = 0;
  const stream = pushStream<string>(async (s) => {
    sink = s;
    s.push("1", "replayed"); // pushed while opening, before open resolves
    return () => {
      stops++;
    };
  });
  return {
    stream,
    emit: (id: string, data: string) => sink?.push(id, data),
    fail: (error: unknown) => sink?.fail(error),
    stops: () => stops,
  };
}

describe("push streams", () => {
  it("iterate as tracked items, in order, including what was pushed while opening, and stop on return", async () => {
    const { stream, emit, stops } = manualStream();
    expect(isPushStream(stream)).toBe(true);
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    emit("2", "live");
    const second = await iterator.next();
    // tracked(id, data) is [id, data, marker]: the marker is how tRPC recognises it.
    const items = [first.value, second.value].map((item) => (item ? [item[0], item[1]] : null));
    expect(items).toEqual([
      ["1", "replayed"],
      ["2", "live"],
    ]);
    expect([first.value, second.value].every((item) => item && isTrackedEnvelope(item))).toBe(true);
    await iterator.return?.();
    expect(stops()).toBe(1);
  });

  it("stop at once when the consumer returns while waiting for an item, as tRPC's adapter does on a stop", async () => {
    const { stream, emit, stops } = manualStream();
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const waiting = iterator.next();
    const returned = iterator.return?.();
    // Not when the room's next event happens to come: that may be never.
    expect(stops()).toBe(1);
    await expect(waiting).resolves.toEqual({ done: true, value: undefined });
    await expect(returned).resolves.toEqual({ done: true, value: undefined });
    emit("2", "after the stop");
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    expect(stops()).toBe(1);
  });

  it("end a pulling consumer with the producer's error", async () => {
    const { stream, fail } = manualStream();
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    fail(new Error("room deleted"));
    await expect(iterator.next()).rejects.toThrow("room deleted");
  });

  it("supervised, call onEnd once however they end and map the producer's errors", async () => {
    let ends = 0;
    const failures: unknown[] = [];
    const { stream, fail } = manualStream();
    const supervised = supervisePushStream(
      stream,
      () => ends++,
      (error) => new Error(`mapped: ${(error as Error).message}`),
    );
    const received: string[] = [];
    const stop = await supervised.open({
      push: (_id, data) => received.push(data),
      fail: (e) => failures.push(e),
    });
    fail(new Error("kicked"));
    stop();
    expect(received).toEqual(["replayed"]);
    expect(failures.map((e) => (e as Error).message)).toEqual(["mapped: kicked"]);
    expect(ends).toBe(1);

    const refusing = supervisePushStream(
      pushStream<string>(async () => {
        throw new Error("not found");
      }),
      () => ends++,
      (error) => new Error(`mapped: ${(error as Error).message}`),
    );
    await expect(refusing.open({ push() {}, fail() {} })).rejects.toThrow("mapped: not found");
    expect(ends).toBe(2);
  });
});
