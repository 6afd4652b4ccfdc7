import { createParleyClient, type ParleyClient, type RoomEvent, TRPCClientError } from "@parley/client";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { collectPresence, collectRoomEvents } from "@parley/testing/event-collector";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { type RedisServer, startRedisServer } from "@parley/testing/redis-server";
import { type ServerProcess, spawnServer } from "@parley/testing/server-process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";

// Two real server processes sharing one PostgreSQL database and one Redis.
let redis: RedisServer;
let database: Awaited<ReturnType<typeof createFreshDatabase>>;
let a: ServerProcess;
let b: ServerProcess;

beforeAll(async () => {
  redis = await startRedisServer();
  database = await createFreshDatabase(inject("databaseUrl"));
  // Every user here signs up from 127.0.0.1: the auth limit is raised; the send limit stays at its default.
  const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, AUTH_RATE_LIMIT: "1000/60" };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.destroy();
  await database?.drop();
});

const clientOf = (server: ServerProcess, token?: string) =>
  createParleyClient({ url: server.url, token, WebSocket });

async function signUp(server: ServerProcess, name: string) {
  const { token, user } = await clientOf(server).auth.register.mutate({
    email: uniqueEmail(),
    password: GOOD_PASSWORD,
    displayName: name,
  });
  if (!token) throw new Error("no token");
  return { user, token, on: (s: ServerProcess): ParleyClient => clientOf(s, token) };
}

async function readyStatus(server: ServerProcess) {
  return (await fetch(`${server.url}/readyz`)).status;
}

/** /readyz has no event to await: ask until it answers `status`, for at most 20 s. */
async function readyzBecomes(server: ServerProcess, status: number) {
  const deadline = Date.now() + 20_000;
  while ((await readyStatus(server)) !== status) {
    if (Date.now() > deadline) throw new Error(`/readyz did not become ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("two instances on one PostgreSQL and one Redis", () => {
  /** Three senders on B in one room with a member on A: each stays under the default 20-per-10-s send limit. */
  async function roomAcross(name: string) {
    const member = await signUp(a, `${name} member`);
    const senders = await Promise.all([1, 2, 3].map((n) => signUp(b, `${name} sender ${n}`)));
    const room = await member.on(a).chat.rooms.create.mutate({ name, isPrivate: false });
    for (const sender of senders) await sender.on(b).chat.rooms.join.mutate({ roomId: room.id });
    const send = async (i: number, prefix: string) => {
      const sender = senders[i % senders.length];
      if (!sender) throw new Error("no sender");
      await sender
        .on(b)
        .chat.messages.send.mutate({ roomId: room.id, content: `${i}`, clientMessageId: `${prefix}${i}` });
    };
    return { member, senders, room, send };
  }

  const contents = (events: RoomEvent[]) =>
    events.flatMap((e) => (e.type === "message.created" ? [e.message.content] : []));
  const numbers = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${from + i}`);

  it("delivers to a subscriber on A, in order and exactly once, what senders on B send", async () => {
    const { member, room, send } = await roomAcross("Across");
    const subscriber = collectRoomEvents(member.on(a), room.id, "0");
    await subscriber.until(() => subscriber.items.length === 4);
    for (let i = 0; i < 60; i++) await send(i, "x");
    await subscriber.until(() => subscriber.items.length === 64);
    expect(contents(subscriber.items)).toEqual(numbers(0, 60));
    expect(subscriber.items.map((e) => e.seq)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    subscriber.unsubscribe();
  });

  it("shows users connected to either instance in presence", async () => {
    const alice = await signUp(a, "Alice");
    const bob = await signUp(b, "Bob");
    const room = await alice.on(a).chat.rooms.create.mutate({ name: "Presence", isPrivate: false });
    await bob.on(b).chat.rooms.join.mutate({ roomId: room.id });
    const onA = collectPresence(alice.on(a), room.id);
    const onB = collectPresence(bob.on(b), room.id);
    const sees = (c: typeof onA, userId: string) =>
      c.items.at(-1)?.online.some((u) => u.userId === userId) ?? false;
    await onA.until(() => sees(onA, bob.user.id) && sees(onA, alice.user.id));
    await onB.until(() => sees(onB, alice.user.id) && sees(onB, bob.user.id));
    onB.unsubscribe();
    await onA.until(() => !sees(onA, bob.user.id));
    onA.unsubscribe();
  });

  it("shares the send rate limit: 20 per 10 s counted across both instances", async () => {
    const carol = await signUp(a, "Carol");
    const room = await carol.on(a).chat.rooms.create.mutate({ name: "Limits", isPrivate: false });
    for (let i = 0; i < 20; i++) {
      const server = i % 2 === 0 ? a : b;
      await carol
        .on(server)
        .chat.messages.send.mutate({ roomId: room.id, content: `${i}`, clientMessageId: `r${i}` });
    }
    for (const [name, server] of [
      ["a", a],
      ["b", b],
    ] as const) {
      const refused = carol.on(server).chat.messages.send.mutate({
        roomId: room.id,
        content: "one too many",
        clientMessageId: `over-${name}`,
      });
      await expect(refused).rejects.toSatisfy(
        (error) => error instanceof TRPCClientError && error.data?.code === "TOO_MANY_REQUESTS",
      );
    }
  });

  it("loses nothing for a subscriber while Redis is down; /readyz reports the outage and Redis comes back by itself", async () => {
    const { member, room, send } = await roomAcross("Outage");
    const live = collectRoomEvents(member.on(a), room.id, "0");
    await live.until(() => live.items.length === 4);

    await redis.stop();
    await readyzBecomes(a, 503);
    await readyzBecomes(b, 503);
    // Sends still commit to PostgreSQL while Redis is away (limits fall back to memory).
    for (let i = 0; i < 10; i++) await send(i, "d");
    // A subscriber that resumes now, on the other instance, reads them from the database.
    const resumed = collectRoomEvents(member.on(b), room.id, live.lastId());
    await resumed.until(() => resumed.items.length === 10);

    await redis.start();
    await readyzBecomes(a, 200);
    await readyzBecomes(b, 200);
    // The subscriber that stayed on A catches up by itself once its bus reconnects.
    await live.until(() => live.items.length === 14);
    expect(contents(live.items)).toEqual(numbers(0, 10));
    expect(contents(resumed.items)).toEqual(numbers(0, 10));

    await send(10, "d");
    await live.until(() => live.items.length === 15);
    expect(contents(live.items)).toEqual(numbers(0, 11));
    live.unsubscribe();
    resumed.unsubscribe();
  });

  it("a block made on B hides the blocked sender's messages from the blocker's open subscription on A, and an unblock shows them again", async () => {
    const { member, senders, room, send } = await roomAcross("Blocks");
    const blocked = senders[0];
    if (!blocked) throw new Error("no sender");
    const onA = collectRoomEvents(member.on(a), room.id);
    await onA.started();
    // Sender 0 sends the multiples of 3.
    await member.on(b).chat.blocks.block.mutate({ userId: blocked.user.id });
    for (let i = 0; i < 6; i++) await send(i, "blk");
    await onA.until(() => contents(onA.items).includes("5"));
    expect(contents(onA.items)).toEqual(["1", "2", "4", "5"]);
    await member.on(b).chat.blocks.unblock.mutate({ userId: blocked.user.id });
    for (let i = 6; i < 9; i++) await send(i, "blk");
    await onA.until(() => contents(onA.items).includes("8"));
    expect(contents(onA.items)).toEqual(["1", "2", "4", "5", "6", "7", "8"]);
    onA.unsubscribe();
  });

  it("killing instance A and resuming on B with lastEventId loses nothing", async () => {
    const { member, room, send } = await roomAcross("Failover");
    const onA = collectRoomEvents(member.on(a), room.id, "0");
    await onA.until(() => onA.items.length === 4);
    for (let i = 0; i < 20; i++) await send(i, "f");
    await onA.until(() => onA.items.length === 24);
    a.child.kill("SIGKILL");
    await a.exited;
    onA.unsubscribe();
    for (let i = 20; i < 40; i++) await send(i, "f");
    const onB = collectRoomEvents(member.on(b), room.id, onA.lastId());
    await onB.until(() => onB.items.length === 20);
    expect(contents([...onA.items, ...onB.items])).toEqual(numbers(0, 40));
    onB.unsubscribe();
  });
});
