import { randomUUID } from "node:crypto";
import { createParleyClient, type RoomEvent } from "@parley/client";
import { type SignedUp, signUpAt } from "@parley/testing/accounts";
import type { ServerProcess } from "@parley/testing/server-process";
import { type ServerRelay, serverRelay } from "@parley/testing/server-relay";
import { openSse } from "@parley/testing/sse-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// threads-restart.test.ts's scenario over Server-Sent Events: real server processes on one
// database, the first killed with SIGKILL mid-stream (no shutdown code runs), a second taking
// over, and the client resuming on it with Last-Event-ID, as EventSource does on reconnect.
let relay: ServerRelay | undefined;

beforeAll(async () => {
  relay = await serverRelay();
});
afterAll(() => relay?.close());

async function startServer() {
  if (!relay) throw new Error("the relay did not start");
  return relay.start();
}

/** A message sent over REST, as a script would (the clientMessageId makes a retry safe). */
async function sendOverRest(
  server: ServerProcess,
  account: SignedUp,
  roomId: string,
  content: string,
  id: string,
) {
  const response = await fetch(`${server.url}/api/v1/chat/messages/send`, {
    method: "POST",
    headers: { authorization: `Bearer ${account.token}`, "content-type": "application/json" },
    body: JSON.stringify({ roomId, content, clientMessageId: id }),
  });
  if (response.status !== 200)
    throw new Error(`send ${content}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { seq: number; content: string };
}

const eventsOf = (stream: Awaited<ReturnType<typeof openSse>>) =>
  stream.events
    .filter((e) => e.event === "message")
    .map((e) => ({ id: e.id, event: JSON.parse(e.data) as RoomEvent }));

const created = (stream: Awaited<ReturnType<typeof openSse>>, content: string) =>
  eventsOf(stream).some(({ event }) => event.type === "message.created" && event.message.content === content);

describe("GET /api/v1/rooms/{roomId}/events across a server crash", () => {
  it("with the server killed with SIGKILL mid-stream and restarted, resuming with Last-Event-ID loses nothing and doubles nothing", async () => {
    const first = await startServer();
    const owner = await signUpAt(first.url, "Owner");
    const room = await createParleyClient({ url: first.url, token: owner.token }).chat.rooms.create.mutate({
      name: "SSE crash",
      isPrivate: false,
    });
    const ids = Array.from({ length: 40 }, () => randomUUID());
    const sendNumber = (server: ServerProcess, i: number) =>
      sendOverRest(server, owner, room.id, `n${i}`, ids[i] ?? "");

    const headers = { authorization: `Bearer ${owner.token}` };
    const before = await openSse(`${first.url}/api/v1/rooms/${room.id}/events`, headers);
    expect(before.status).toBe(200);
    for (let i = 0; i < 20; i++) await sendNumber(first, i);
    await before.until(() => created(before, "n19"));
    // Killed while a send is in flight: it may or may not have committed.
    const inFlight = sendNumber(first, 20).then(
      () => "acknowledged",
      () => "lost with the server",
    );
    await first.kill();
    await before.ended();
    await inFlight;

    const second = await startServer();
    // Retried with the same clientMessageId: the one in flight, and one acknowledged before the
    // crash, which comes back as it was rather than as a new message.
    const acknowledged = await sendNumber(second, 18);
    expect(acknowledged.seq).toBeLessThanOrEqual(Number(before.lastId()));
    for (let i = 20; i < 40; i++) await sendNumber(second, i);
    const lastSeen = before.lastId() ?? "";
    const after = await openSse(`${second.url}/api/v1/rooms/${room.id}/events`, {
      ...headers,
      "last-event-id": lastSeen,
    });
    expect(after.status).toBe(200);
    await after.until(() => created(after, "n39"));
    after.close();

    const all = [...eventsOf(before), ...eventsOf(after)];
    const seqs = all.map(({ event }) => event.seq);
    expect(all.map(({ id }) => id)).toEqual(seqs.map(String));
    const firstSeq = seqs[0] ?? 0;
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => firstSeq + i));
    const contents = all.flatMap(({ event }) =>
      event.type === "message.created" ? [event.message.content] : [],
    );
    expect(contents).toEqual(Array.from({ length: 40 }, (_, i) => `n${i}`));
  });
});
