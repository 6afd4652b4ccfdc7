import { createParleyClient, type RoomEvent } from "@parley/client";
import {
  promoteToAdmin,
  RIGHTS_CHANGED_CLOSE_CODE,
  SESSION_ENDED_CLOSE_CODE,
  TOO_MANY_SOCKETS_CLOSE_CODE,
} from "@parley/core";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, signedInAdmin, signedInUser, uniqueEmail } from "@parley/testing/accounts";
import { runAdminCreate } from "@parley/testing/admin-create-process";
import { roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { collectRoomEvents } from "@parley/testing/event-collector";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { deliverQueuedEmail, recordedEmailsTo, tokenInLink } from "@parley/testing/mailbox";
import { openRawSocket, type RawSocket, type TrpcWsMessage } from "@parley/testing/raw-socket";
import { type RedisServer, startRedisServer } from "@parley/testing/redis-server";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type ParleyServer, startParleyServer } from "../src/parley-server.ts";
import { createSocketClient, startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ limits: { wsConnectionsPerUser: 5 } });
});
afterAll(() => t.close());

/** The reply to a call, or the close code when the socket closed first (and never answers). */
function replyOrClose(socket: RawSocket, reply: Promise<TrpcWsMessage>) {
  return Promise.race([reply, socket.closed.then((code) => ({ closedWith: code }))]);
}

async function roleOf(db: ParleyServer["deps"]["db"], userId: string) {
  const [row] = await db
    .select({ role: schema.users.role })
    .from(schema.users)
    .where(eq(schema.users.id, userId));
  return row?.role;
}

describe("a change of rights reaches the user's open sockets", () => {
  it("an admin demoted over HTTP cannot make itself admin again over a socket opened before", async () => {
    const victim = await signedInAdmin(t);
    const other = await signedInAdmin(t);
    const socket = await openRawSocket(t.url, { token: victim.token });
    expect((await socket.call("query", "admin.users.list", {})).result?.type).toBe("data");

    await other.api.admin.users.setRole.mutate({ userId: victim.user.id, role: "user" });
    const retake = await replyOrClose(
      socket,
      socket.call("mutation", "admin.users.setRole", { userId: victim.user.id, role: "admin" }),
    );

    expect(retake).not.toHaveProperty("result");
    expect(await roleOf(t.server.deps.db, victim.user.id)).toBe("user");
    expect(await socket.closed).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    // Reconnected with the same session: a plain user now.
    const again = await openRawSocket(t.url, { token: victim.token });
    const refused = await again.call("mutation", "admin.users.setRole", {
      userId: victim.user.id,
      role: "admin",
    });
    expect(refused.error?.data?.code).toBe("FORBIDDEN");
    expect(await roleOf(t.server.deps.db, victim.user.id)).toBe("user");
    again.close();
  });

  it("a demoted admin loses the chat.events stream of a private room it read as admin", async () => {
    const { room } = await roomWith(t, true, "Private");
    const admin = await signedInAdmin(t);
    const other = await signedInAdmin(t);
    const socket = await openRawSocket(t.url, { token: admin.token });
    const started = await socket.call("subscription", "chat.events", { roomId: room.id });
    expect(started.result?.type).toBe("started");

    await other.api.admin.users.setRole.mutate({ userId: admin.user.id, role: "user" });

    expect(await socket.closed).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    const again = await openRawSocket(t.url, { token: admin.token });
    const refused = await again.call("subscription", "chat.events", { roomId: room.id });
    expect(refused.error?.data?.code).toBe("NOT_FOUND");
    again.close();
  });

  it("email verification reaches a socket opened before it: the reconnected socket is verified", async () => {
    const user = await signedInUser(t);
    const socket = await openRawSocket(t.url, { token: user.token });
    expect((await socket.call("query", "auth.me")).result?.data?.json).toMatchObject({
      emailVerified: false,
    });

    await deliverQueuedEmail(t);
    const [email] = await recordedEmailsTo(t, user.email);
    await t.client().auth.verifyEmail.mutate({ token: tokenInLink(email?.text ?? "") });

    expect(await socket.closed).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    const again = await openRawSocket(t.url, { token: user.token });
    expect((await again.call("query", "auth.me")).result?.data?.json).toMatchObject({ emailVerified: true });
    again.close();
  });

  it("a role set to what it already is leaves the user's sockets open", async () => {
    const admin = await signedInAdmin(t);
    const user = await signedInUser(t);
    const socket = await openRawSocket(t.url, { token: user.token });
    await socket.call("query", "auth.me");
    await admin.api.admin.users.setRole.mutate({ userId: user.user.id, role: "user" });
    const me = await replyOrClose(socket, socket.call("query", "auth.me"));
    expect(me).toMatchObject({ result: { data: { json: { email: user.email } } } });
    socket.close();
  });

  it("the typed client reconnects by itself and its chat.events subscription resumes, nothing lost or doubled", async () => {
    const admin = await signedInAdmin(t);
    const { owner, room } = await roomWith(t, false, "Resume");
    const subscriber = await signUp(t, "Subscriber");
    await subscriber.api.chat.rooms.join.mutate({ roomId: room.id });
    const client = createSocketClient(t.url, subscriber.token);
    const events = collectRoomEvents(client.api, room.id);
    await events.started();
    const contents = () =>
      events.items.flatMap((e: RoomEvent) => (e.type === "message.created" ? [e.message.content] : []));
    await send(owner.api, room.id, "1");
    await events.until(() => contents().length === 1);

    const closed = client.nextClose();
    await admin.api.admin.users.setRole.mutate({ userId: subscriber.user.id, role: "admin" });
    // Sent while the socket is closed or reconnecting: replayed from lastEventId.
    await send(owner.api, room.id, "2");
    await send(owner.api, room.id, "3");
    expect((await closed).code).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    await events.until(() => contents().length >= 3);
    await send(owner.api, room.id, "4");
    await events.until(() => contents().length >= 4);

    expect(contents()).toEqual(["1", "2", "3", "4"]);
    expect(events.error()).toBeUndefined();
    expect(client.closes().map((c) => c.code)).toEqual([RIGHTS_CHANGED_CLOSE_CODE]);
    events.unsubscribe();
  });
});

describe("a session-ended close (4001) and the typed client", () => {
  it("a signed-out client's chat.events subscription ends with UNAUTHORIZED instead of resuming", async () => {
    const { owner, room } = await roomWith(t, false, "Signed out");
    const client = createSocketClient(t.url, owner.token);
    const events = collectRoomEvents(client.api, room.id);
    await events.started();
    const closed = client.nextClose();

    await owner.api.auth.logout.mutate();

    expect((await closed).code).toBe(SESSION_ENDED_CLOSE_CODE);
    await events.until(() => events.error() !== undefined);
    expect(events.error()?.data?.code).toBe("UNAUTHORIZED");
  });
});

describe("sockets per user", () => {
  it("refuses a socket over the per-user cap with 4029 and a reason; other users and the open sockets are unaffected", async () => {
    const user = await signedInUser(t);
    const open = await Promise.all(
      Array.from({ length: 5 }, () => openRawSocket(t.url, { token: user.token })),
    );
    for (const socket of open) expect((await socket.call("query", "auth.me")).result?.type).toBe("data");

    const extra = await openRawSocket(t.url, { token: user.token });
    const reason = new Promise<string>((resolve) =>
      extra.socket.once("close", (_code, r) => resolve(String(r))),
    );
    expect(await replyOrClose(extra, extra.call("query", "auth.me"))).toEqual({
      closedWith: TOO_MANY_SOCKETS_CLOSE_CODE,
    });
    expect(await reason).toBe("At most 5 connections per user");

    const someoneElse = await signedInUser(t);
    const theirs = await openRawSocket(t.url, { token: someoneElse.token });
    expect((await theirs.call("query", "auth.me")).result?.type).toBe("data");
    for (const socket of open) expect((await socket.call("query", "auth.me")).result?.type).toBe("data");

    // A closed socket frees its place.
    open[0]?.close();
    await open[0]?.closed;
    const replacement = await openRawSocket(t.url, { token: user.token });
    expect((await replacement.call("query", "auth.me")).result?.data?.json).toMatchObject({
      email: user.email,
    });
    for (const socket of [...open, theirs, replacement]) socket.close();
  });

  it("300 sockets opened at once by one user: 5 are served, the rest closed with 4029", async () => {
    const user = await signedInUser(t);
    const sockets = await Promise.all(
      Array.from({ length: 300 }, () => openRawSocket(t.url, { token: user.token })),
    );
    const outcomes = await Promise.all(sockets.map((s) => replyOrClose(s, s.call("query", "auth.me"))));
    const served = outcomes.filter((o) => "result" in o && o.result?.type === "data");
    const refused = outcomes.filter((o) => "closedWith" in o && o.closedWith === TOO_MANY_SOCKETS_CLOSE_CODE);
    expect(served).toHaveLength(5);
    expect(refused).toHaveLength(295);
    for (const socket of sockets) socket.close();
  });
});

describe("auth.logout over the WebSocket", () => {
  it("answers the caller, then closes the socket with 4001", async () => {
    for (let round = 0; round < 10; round++) {
      const user = await signedInUser(t);
      const socket = await openRawSocket(t.url, { token: user.token });
      const reply = await replyOrClose(socket, socket.call("mutation", "auth.logout"));
      expect(reply).toMatchObject({ result: { type: "data", data: { json: { ok: true } } } });
      expect(await socket.closed).toBe(SESSION_ENDED_CLOSE_CODE);
      expect(await t.client(user.token).auth.me.query()).toBeNull();
    }
  });
});

describe("a socket's session lifetime", () => {
  it("ends the socket at the heartbeat once its session reaches its absolute lifetime, as HTTP refuses it", async () => {
    const HOUR = 60 * 60 * 1000;
    let now = Date.now();
    await using clocked = await startTestServer({
      clock: () => new Date(now),
      // Long enough that a loaded machine answers every ping in time (a missed one drops the socket).
      limits: { sessionAbsoluteMs: HOUR, wsHeartbeatMs: 500 },
    });
    const early = await signedInUser(clocked);
    const earlySocket = await openRawSocket(clocked.url, { token: early.token });
    expect((await earlySocket.call("query", "auth.me")).result?.data?.json).toMatchObject({
      email: early.email,
    });
    now += HOUR / 2;
    const late = await signedInUser(clocked);
    const lateSocket = await openRawSocket(clocked.url, { token: late.token });
    await lateSocket.call("query", "auth.me");

    now += HOUR / 2 + 1;

    expect(await earlySocket.closed).toBe(SESSION_ENDED_CLOSE_CODE);
    expect(await clocked.client(early.token).auth.me.query()).toBeNull();
    // The later session has half an hour left: its socket serves on.
    expect((await lateSocket.call("query", "auth.me")).result?.data?.json).toMatchObject({
      email: late.email,
    });
    now += HOUR / 2;
    expect(await lateSocket.closed).toBe(SESSION_ENDED_CLOSE_CODE);
  });
});

describe("two instances on one PostgreSQL and one Redis", () => {
  let redis: RedisServer;
  let database: Awaited<ReturnType<typeof createFreshDatabase>>;
  let a: ParleyServer;
  let b: ParleyServer;

  beforeAll(async () => {
    redis = await startRedisServer();
    database = await createFreshDatabase(inject("databaseUrl"));
    const options = {
      port: 0,
      host: "127.0.0.1",
      databaseUrl: database.url,
      redisUrl: redis.url,
      logger: pino({ level: "silent" }),
      emailWorker: { enabled: false },
    };
    a = await startParleyServer(options);
    b = await startParleyServer(options);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.destroy();
    await database?.drop();
  });

  async function adminOn(server: ParleyServer) {
    const email = uniqueEmail("admin");
    const { token, user } = await createParleyClient({ url: server.url }).auth.register.mutate({
      email,
      password: GOOD_PASSWORD,
      displayName: "Admin",
    });
    if (!token) throw new Error("register returned no token");
    await promoteToAdmin({ db: server.deps.db, clock: () => new Date() }, email);
    return { token, user, api: createParleyClient({ url: server.url, token }) };
  }

  it("an admin demoted on A loses admin at once on its socket on B", async () => {
    const victim = await adminOn(a);
    const other = await adminOn(a);
    const socket = await openRawSocket(b.url, { token: victim.token });
    expect((await socket.call("query", "admin.users.list", {})).result?.type).toBe("data");

    await other.api.admin.users.setRole.mutate({ userId: victim.user.id, role: "user" });

    expect(await socket.closed).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    const again = await openRawSocket(b.url, { token: victim.token });
    const refused = await again.call("mutation", "admin.users.setRole", {
      userId: victim.user.id,
      role: "admin",
    });
    expect(refused.error?.data?.code).toBe("FORBIDDEN");
    expect(await roleOf(b.deps.db, victim.user.id)).toBe("user");
    again.close();
  });

  it("admin:create promoting a user reaches the user's socket on B: it reconnects as admin", async () => {
    const email = uniqueEmail("promoted");
    const { token } = await createParleyClient({ url: a.url }).auth.register.mutate({
      email,
      password: GOOD_PASSWORD,
      displayName: "Promoted",
    });
    const socket = await openRawSocket(b.url, { token: token ?? "" });
    expect((await socket.call("query", "admin.users.list", {})).error?.data?.code).toBe("FORBIDDEN");

    const run = await runAdminCreate(["--email", email], "", {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
    });
    expect(run.out).toContain(`${email} is now an admin`);

    expect(await socket.closed).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    const again = await openRawSocket(b.url, { token: token ?? "" });
    expect((await again.call("query", "admin.users.list", {})).result?.type).toBe("data");
    again.close();
  });

  it("a demotion on A while Redis is down reaches the socket on B once Redis is back", async () => {
    const victim = await adminOn(a);
    const other = await adminOn(a);
    const bystander = await adminOn(a);
    const socket = await openRawSocket(b.url, { token: victim.token });
    const unchanged = await openRawSocket(b.url, { token: bystander.token });
    expect((await socket.call("query", "admin.users.list", {})).result?.type).toBe("data");
    expect((await unchanged.call("query", "admin.users.list", {})).result?.type).toBe("data");

    await redis.stop();
    await other.api.admin.users.setRole.mutate({ userId: victim.user.id, role: "user" });
    await redis.start();

    // B's bus resynchronises: it re-reads the rights of its sockets' users and closes the stale.
    expect(await socket.closed).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    expect((await unchanged.call("query", "admin.users.list", {})).result?.type).toBe("data");
    unchanged.close();
  });
});
