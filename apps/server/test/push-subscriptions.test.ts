import { randomUUID } from "node:crypto";
import { roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// chat.events is served by apps/server/src/realtime/push-subscriptions.ts, not tRPC's adapter: these
// tests read the frames themselves, to show the protocol is tRPC's and the checks still apply.

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ limits: { subscriptionsPerConnection: 20 } });
});
afterAll(() => t.close());

interface Frame {
  id: number | string | null;
  jsonrpc?: string;
  result?: {
    type: string;
    id?: string;
    data?: { json: { id: string; data: { seq: number; type: string } } };
  };
  error?: {
    json: { message: string; data: { code: string; zodError?: { fieldErrors: Record<string, string[]> } } };
  };
}

/** A socket that keeps every frame, raw and parsed, and lets a test wait for one. */
async function openSocket(token?: string, baseUrl = t.url) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/trpc${token ? "?connectionParams=1" : ""}`);
  const frames: { raw: string; parsed: Frame }[] = [];
  const waiters = new Set<() => void>();
  ws.on("message", (data) => {
    const raw = String(data);
    for (const parsed of [JSON.parse(raw)].flat() as Frame[]) frames.push({ raw, parsed });
    for (const wake of waiters) wake();
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  if (token) ws.send(JSON.stringify({ method: "connectionParams", data: { token } }));
  const of = (id: number | string) => frames.filter((f) => f.parsed.id === id);
  return {
    ws,
    frames,
    of,
    send: (message: unknown) => ws.send(JSON.stringify(message)),
    /** Resolves with the first frame for `id` that `match` accepts, waiting for it as it arrives. */
    next(id: number | string, match: (frame: Frame) => boolean = () => true): Promise<Frame> {
      return new Promise((resolve) => {
        const check = () => {
          const found = of(id).find((f) => match(f.parsed));
          if (!found) return;
          waiters.delete(check);
          resolve(found.parsed);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => ws.close(),
  };
}

type Socket = Awaited<ReturnType<typeof openSocket>>;

const subscribe = (id: number | string, roomId: string, extra: Record<string, unknown> = {}) => ({
  id,
  method: "subscription",
  params: { path: "chat.events", input: { json: { roomId } }, ...extra },
});
const isType = (type: string) => (frame: Frame) => frame.result?.type === type;
const dataFrames = (socket: Socket, id: number | string) =>
  socket.of(id).filter((f) => f.parsed.result?.type === "data");
const seqsOf = (socket: Socket, id: number | string) =>
  dataFrames(socket, id).map((f) => f.parsed.result?.data?.json.data.seq);
const codeOf = (frame: Frame) => frame.error?.json.data.code;

/** A call answered after everything the server sent before it: a barrier without a sleep. */
async function barrier(socket: Socket) {
  const id = randomUUID();
  socket.send({ id, method: "query", params: { path: "auth.me", input: { json: null } } });
  await socket.next(id);
}

describe("chat.events on the WebSocket", () => {
  it("speaks tRPC's protocol: started, tracked data, stopped on request, then nothing more", async () => {
    const { owner, room } = await roomWith(t, false);
    const socket = await openSocket(owner.token);
    socket.send({ ...subscribe(1, room.id), jsonrpc: "2.0" });
    await socket.next(1, isType("started"));
    const first = await send(owner.api, room.id, "one");
    const data = await socket.next(1, isType("data"));
    expect(data.jsonrpc).toBe("2.0");
    expect(data.result?.id).toBe(String(first.seq));
    expect(data.result?.data?.json.id).toBe(String(first.seq));
    expect(data.result?.data?.json.data).toMatchObject({ type: "message.created", seq: first.seq });

    socket.send({ id: 1, jsonrpc: "2.0", method: "subscription.stop" });
    await socket.next(1, isType("stopped"));
    await send(owner.api, room.id, "two");
    await barrier(socket);
    // The second message went out after the stop: this socket must not have it.
    expect(seqsOf(socket, 1)).toEqual([first.seq]);
    socket.close();
  });

  it("frames a 16 KB event (4,000 four-byte characters) intact", async () => {
    const { owner, room } = await roomWith(t, false);
    const socket = await openSocket(owner.token);
    socket.send(subscribe(1, room.id));
    await socket.next(1, isType("started"));
    const content = "𝄞".repeat(4000);
    const message = await send(owner.api, room.id, content);
    const frame = await socket.next(1, isType("data"));
    expect(frame.result?.data?.json.data).toMatchObject({ seq: message.seq, message: { content } });
    socket.close();
  });

  it("sends every subscriber of a room the same bytes after its own request id", async () => {
    const { owner, room } = await roomWith(t, false);
    const a = await openSocket(owner.token);
    const b = await openSocket(owner.token);
    a.send(subscribe(7, room.id));
    b.send(subscribe("b-1", room.id));
    await Promise.all([a.next(7, isType("started")), b.next("b-1", isType("started"))]);
    await send(owner.api, room.id, "same for all");
    const [frameA, frameB] = await Promise.all([a.next(7, isType("data")), b.next("b-1", isType("data"))]);
    expect(frameA.result).toEqual(frameB.result);
    const rawA = dataFrames(a, 7)[0]?.raw ?? "";
    const rawB = dataFrames(b, "b-1")[0]?.raw ?? "";
    expect(rawA.startsWith('{"id":7,')).toBe(true);
    expect(rawB.startsWith('{"id":"b-1",')).toBe(true);
    expect(rawA.slice('{"id":7'.length)).toBe(rawB.slice('{"id":"b-1"'.length));
    a.close();
    b.close();
  });

  it("gives subscribers that share a request id each event's own frame, and one beyond the frames kept per event its own too", async () => {
    const { owner, room } = await roomWith(t, false);
    // Two sockets whose subscriptions share ids (as wsLink numbers them), one with jsonrpc; and
    // 18 distinct ids on a third socket, past the 16 frames the server keeps per event.
    const a = await openSocket(owner.token);
    const b = await openSocket(owner.token);
    const many = await openSocket(owner.token);
    a.send(subscribe(1, room.id));
    b.send(subscribe(1, room.id));
    b.send({ ...subscribe(2, room.id), jsonrpc: "2.0" });
    const ids = Array.from({ length: 18 }, (_, i) => i + 1);
    for (const id of ids) many.send(subscribe(id, room.id));
    await Promise.all([
      a.next(1, isType("started")),
      b.next(1, isType("started")),
      b.next(2, isType("started")),
      ...ids.map((id) => many.next(id, isType("started"))),
    ]);
    const sent = [];
    for (const text of ["first", "second", "third"]) sent.push(await send(owner.api, room.id, text));
    const seqs = sent.map((m) => m.seq);
    const last = (s: Socket, id: number) =>
      s.next(id, (f) => f.result?.data?.json.data.seq === seqs[seqs.length - 1]);
    await Promise.all([last(a, 1), last(b, 1), last(b, 2), ...ids.map((id) => last(many, id))]);

    expect(seqsOf(a, 1)).toEqual(seqs);
    expect(dataFrames(b, 1).map((f) => f.raw)).toEqual(dataFrames(a, 1).map((f) => f.raw));
    for (const [i, frame] of dataFrames(a, 1).entries()) {
      const message = sent[i];
      expect(frame.parsed.result?.data?.json.data).toMatchObject({
        seq: message?.seq,
        message: { id: message?.id },
      });
      expect(dataFrames(b, 2)[i]?.raw).toBe(`{"id":2,"jsonrpc":"2.0"${frame.raw.slice('{"id":1'.length)}`);
      for (const id of ids) {
        expect(dataFrames(many, id)[i]?.raw).toBe(`{"id":${id}${frame.raw.slice('{"id":1'.length)}`);
      }
    }
    for (const s of [a, b, many]) s.close();
  });

  it("serves a batch that mixes chat.events with other calls, each answered", async () => {
    const { owner, room } = await roomWith(t, false);
    const socket = await openSocket(owner.token);
    socket.send([
      subscribe(1, room.id),
      { id: 2, method: "query", params: { path: "chat.rooms.get", input: { json: { roomId: room.id } } } },
      {
        id: 3,
        method: "subscription",
        params: { path: "chat.presence", input: { json: { roomId: room.id } } },
      },
    ]);
    await socket.next(1, isType("started"));
    const got = await socket.next(2);
    expect(got.result?.type).toBe("data");
    await socket.next(3, isType("started"));
    socket.close();
  });

  it("cuts off a subscriber that stops reading once the server buffers more than the bound for it; it resumes with lastEventId and gets every event exactly once", async () => {
    const bound = 64 * 1024;
    await using small = await startTestServer({ limits: { wsBufferedBytes: bound } });
    const { owner, room } = await roomWith(small, false);
    const reader = await openSocket(owner.token, small.url);
    const slow = await openSocket(owner.token, small.url);
    reader.send(subscribe(1, room.id));
    slow.send(subscribe(1, room.id));
    await reader.next(1, isType("started"));
    await slow.next(1, isType("started"));
    const sockets = small.server.webSocketServer.clients;
    expect(sockets.size).toBe(2);
    // Stop reading from TCP before anything flows: the kernel's buffers stay small, so the
    // server's own queue for this socket passes the bound after a few hundred KiB.
    const tcp = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    const slowClosed = new Promise<number>((resolve) => slow.ws.once("close", (code) => resolve(code)));

    const text = "x".repeat(4000);
    const sent: number[] = [];
    // Sent until the server has dropped the paused socket; 2,000 events (8 MB) would mean no bound.
    while (sockets.size === 2 && sent.length < 2000) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => send(owner.api, room.id, text)));
      sent.push(...batch.map((m) => m.seq));
    }
    expect(sockets.size).toBe(1);
    const bytesSent = sent.length * text.length;
    expect(bytesSent).toBeLessThan(2000 * text.length);
    const last = Math.max(...sent);
    // The reader was served throughout, every event once, in order.
    await reader.next(1, (f) => f.result?.data?.json.data.seq === last);
    expect(seqsOf(reader, 1)).toEqual([...sent].sort((a, b) => a - b));

    // The cut-off client reads what reached it, sees the connection end, and resumes from there.
    tcp.resume();
    await slowClosed;
    const before = seqsOf(slow, 1).filter((seq): seq is number => seq !== undefined);
    expect(before.length).toBeLessThan(sent.length);
    const resumed = await openSocket(owner.token, small.url);
    const from = before.at(-1) ?? room.lastSeq;
    resumed.send(subscribe(1, room.id, { lastEventId: String(from) }));
    await resumed.next(1, (f) => f.result?.data?.json.data.seq === last);
    expect([...before, ...seqsOf(resumed, 1)]).toEqual(seqsOf(reader, 1));
    reader.close();
    resumed.close();
  });

  it("resumes from lastEventId whether the missed events are still in memory or only in the database", async () => {
    const { owner, room } = await roomWith(t, false);
    const sent = [];
    // More than the 32 to 64 events a room keeps in memory.
    for (let i = 0; i < 300; i++) sent.push(await send(owner.api, room.id, `m${i}`));
    const lastSeq = sent.at(-1)?.seq ?? 0;
    const socket = await openSocket(owner.token);
    // Old enough to need the database.
    socket.send(subscribe(1, room.id, { lastEventId: String(room.lastSeq) }));
    // Recent enough for memory (the room is loaded by now).
    socket.send(subscribe(2, room.id, { lastEventId: String(lastSeq - 5) }));
    // Within the 256 events the window once kept, past the 32 to 64 it keeps now: the database.
    socket.send(subscribe(3, room.id, { lastEventId: String(lastSeq - 100) }));
    await socket.next(1, (f) => f.result?.data?.json.data.seq === lastSeq);
    await socket.next(2, (f) => f.result?.data?.json.data.seq === lastSeq);
    await socket.next(3, (f) => f.result?.data?.json.data.seq === lastSeq);
    const expectedAll = Array.from({ length: 300 }, (_, i) => room.lastSeq + 1 + i);
    expect(seqsOf(socket, 1)).toEqual(expectedAll);
    expect(seqsOf(socket, 2)).toEqual(expectedAll.slice(-5));
    expect(seqsOf(socket, 3)).toEqual(expectedAll.slice(-100));

    const next = await send(owner.api, room.id, "live");
    await socket.next(1, (f) => f.result?.data?.json.data.seq === next.seq);
    await socket.next(2, (f) => f.result?.data?.json.data.seq === next.seq);
    await socket.next(3, (f) => f.result?.data?.json.data.seq === next.seq);
    socket.close();
  });

  it("refuses bad subscriptions with the API's typed errors", async () => {
    const { owner, room } = await roomWith(t, true);
    const outsider = await signUp(t, "Outsider");
    const socket = await openSocket(owner.token);
    socket.send(subscribe(1, room.id));
    await socket.next(1, isType("started"));

    socket.send(subscribe(1, room.id));
    const duplicate = await socket.next(1, (f) => f.error !== undefined);
    expect(codeOf(duplicate)).toBe("BAD_REQUEST");
    expect(duplicate.error?.json.message).toBe("Duplicate id 1");

    socket.send(subscribe(2, "not-a-room-id"));
    const badRoom = await socket.next(2);
    expect(codeOf(badRoom)).toBe("BAD_REQUEST");
    expect(badRoom.error?.json.data.zodError?.fieldErrors.roomId).toBeDefined();

    socket.send(subscribe(3, room.id, { lastEventId: "abc" }));
    const badEventId = await socket.next(3);
    expect(codeOf(badEventId)).toBe("BAD_REQUEST");
    expect(badEventId.error?.json.data.zodError?.fieldErrors.lastEventId).toBeDefined();

    const stranger = await openSocket(outsider.token);
    stranger.send(subscribe(1, room.id));
    const hidden = await stranger.next(1);
    expect(codeOf(hidden)).toBe("NOT_FOUND");
    expect(hidden.error?.json.message).toBe("No such room");

    const anonymous = await openSocket();
    anonymous.send(subscribe(1, room.id));
    expect(codeOf(await anonymous.next(1))).toBe("UNAUTHORIZED");

    // The refused calls started nothing: the owner's subscription still gets what is sent.
    const message = await send(owner.api, room.id, "still here");
    await socket.next(1, (f) => f.result?.data?.json.data.seq === message.seq);
    await barrier(stranger);
    expect(dataFrames(stranger, 1)).toEqual([]);
    for (const s of [socket, stranger, anonymous]) s.close();
  });

  it("counts its subscriptions against the per-connection cap and gives them back when they stop", async () => {
    const { owner, room } = await roomWith(t, false);
    const socket = await openSocket(owner.token);
    for (let id = 1; id <= 20; id++) socket.send(subscribe(id, room.id));
    await Promise.all(Array.from({ length: 20 }, (_, i) => socket.next(i + 1, isType("started"))));
    socket.send(subscribe(21, room.id));
    expect(codeOf(await socket.next(21))).toBe("TOO_MANY_REQUESTS");

    for (let id = 1; id <= 5; id++) socket.send({ id, method: "subscription.stop" });
    await Promise.all(Array.from({ length: 5 }, (_, i) => socket.next(i + 1, isType("stopped"))));
    for (let id = 22; id <= 26; id++) socket.send(subscribe(id, room.id));
    await Promise.all(Array.from({ length: 5 }, (_, i) => socket.next(i + 22, isType("started"))));
    socket.send(subscribe(27, room.id));
    expect(codeOf(await socket.next(27))).toBe("TOO_MANY_REQUESTS");
    socket.close();
  });

  it("shows a member holding chat.events online in the room until the last of its subscriptions ends, stopped or closed", async () => {
    const { owner, room } = await roomWith(t, false);
    const presence = t.server.deps.presence;
    const online = async () => (await presence.snapshot(room.id)).online.map((u) => u.userId);
    const first = await openSocket(owner.token);
    first.send(subscribe(1, room.id));
    await first.next(1, isType("started"));
    const second = await openSocket(owner.token);
    second.send(subscribe(1, room.id));
    await second.next(1, isType("started"));
    expect(await online()).toEqual([owner.user.id]);

    first.send({ id: 1, method: "subscription.stop" });
    await first.next(1, isType("stopped"));
    expect(await online()).toEqual([owner.user.id]);
    const closed = new Promise((resolve) => second.ws.once("close", resolve));
    second.close();
    await closed;
    await expect.poll(online).toEqual([]);
    first.close();
  });

  it("lets go of a room once its last subscriber leaves", async () => {
    const { owner, room } = await roomWith(t, false);
    const fanout = t.server.deps.roomFanout;
    const before = fanout.activeRooms();
    const socket = await openSocket(owner.token);
    socket.send(subscribe(1, room.id));
    await socket.next(1, isType("started"));
    expect(fanout.activeRooms()).toBe(before + 1);
    const closed = new Promise((resolve) => socket.ws.once("close", resolve));
    socket.close();
    await closed;
    await expect.poll(() => fanout.activeRooms()).toBe(before);
  });
});
