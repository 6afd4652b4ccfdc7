import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { roomWith, send } from "@parley/testing/chat-fixtures";
import { openRawSocket, type TrpcWsMessage } from "@parley/testing/raw-socket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// What the push path (apps/server/src/realtime/push-subscriptions.ts) keeps in memory per event,
// read from the process's own figures: the test server runs in this process (one per test file).

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function arrayBufferBytesAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe("push path memory", () => {
  it("keeps about an event's own bytes per event in the room's window, not the shared Buffer pool its frame tail was cut from", async () => {
    const { owner, room } = await roomWith(t, false);
    const readers = await Promise.all(
      Array.from({ length: 20 }, () => openRawSocket(t.url, { token: owner.token })),
    );
    const started = await Promise.all(
      readers.map((r) => r.call("subscription", "chat.events", { roomId: room.id })),
    );
    expect(started.map((m) => m.result?.type)).toEqual(readers.map(() => "started"));
    const seqOf = (m: TrpcWsMessage) =>
      (m.result?.data?.json as { data?: { seq?: number } } | undefined)?.data?.seq;
    const everyReaderHas = (seq: number) => Promise.all(readers.map((r) => r.next((m) => seqOf(m) === seq)));

    // The room's window and the fan-out are loaded before the baseline.
    await everyReaderHas((await send(owner.api, room.id, "first")).seq);
    const before = arrayBufferBytesAfterGc();
    // Fewer than the 256 events the window keeps: every tail is still held at the end. Each
    // event's 20 frames (about 0.7 KiB each) fill more than one 8 KiB pool between two tails.
    const events = 200;
    let last = 0;
    for (let i = 0; i < events; i++) last = (await send(owner.api, room.id, `message ${i}`)).seq;
    await everyReaderHas(last);
    const perEvent = (arrayBufferBytesAfterGc() - before) / events;

    // A tail cut from the pool held its whole 8 KiB pool: about 8,200 bytes per event here.
    expect(perEvent).toBeLessThan(2_048);
    for (const reader of readers) reader.close();
  });
});
