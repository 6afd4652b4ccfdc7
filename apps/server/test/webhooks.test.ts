import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createEmailWorker,
  createRecordingTransport,
  createWebhookAddresses,
  createWebhookDeliverer,
  type EmailWorker,
  type HostResolver,
  type WebhookAddresses,
} from "@parley/core";
import { schema } from "@parley/db";
import type { SignedUp } from "@parley/testing/accounts";
import { codeOf, makeAdmin, must, rejectionOf, roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { configWith } from "../src/config.ts";
import { webhookAddressesFor } from "../src/webhook-addresses.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const HOUR_MS = 60 * 60 * 1000;

/** A clock the test moves: retries become due without waiting for them. */
// A second ahead: the database stamps run_at with now(), a job queued in the same millisecond
// would not be due yet. Not further: the receivers verify webhook-timestamp against real time.
function manualClock(start = Date.now() + 1_000) {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback: records each request and answers as `respond` says. */
async function startReceiver(respond: (n: number, res: ServerResponse) => void = (_n, res) => res.end("ok")) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      respond(received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const failWith = (status: number) => (_n: number, res: ServerResponse) => {
  res.statusCode = status;
  res.end("receiver is down");
};

let t: TestServer;
let admin: SignedUp;

beforeAll(async () => {
  // The server's own worker stays off: each test drives a worker of its own on its own clock.
  t = await startTestServer({ emailWorker: { enabled: false } });
  admin = await signUp(t, "Admin");
  await makeAdmin(t, admin.user.id);
});
afterAll(() => t.close());
// Each test starts with no webhooks and an empty outbox: one test's global webhook or waiting
// retry must not be another's delivery.
beforeEach(async () => {
  await t.server.deps.db.delete(schema.webhooks);
  await t.server.deps.db.delete(schema.emailOutbox);
});

/**
 * The worker as the server wires it (email-delivery.ts): webhook jobs of the email outbox, with
 * its leases, backoff and dead letters, on a clock the test moves.
 */
function workerFor(
  clock: { now: () => Date },
  addresses?: WebhookAddresses,
  timeoutMs?: number,
): Pick<EmailWorker, "drain"> {
  const db = t.server.deps.db;
  const worker = createEmailWorker({
    db,
    transport: createRecordingTransport(db),
    log,
    from: "Parley <no-reply@example.com>",
    publicOrigin: t.url,
    clock: clock.now,
    random: () => 0.5,
    webhooks: createWebhookDeliverer({
      db,
      addresses: addresses ?? webhookAddressesFor(configWith({ webhooks: { allowPrivate: true } })),
      clock: clock.now,
      ...(timeoutMs ? { settings: { timeoutMs } } : {}),
    }),
  });
  return {
    // The sign-ups' emails share the outbox: removed, so a pass's counts are the webhooks'.
    async drain() {
      await db.delete(schema.emailOutbox).where(eq(schema.emailOutbox.kind, "email"));
      return worker.drain();
    },
  };
}

/** This webhook's jobs as admin.jobs lists them. */
async function jobsOf(url: string) {
  const page = await admin.api.admin.jobs.list.query({ limit: 100 });
  return page.items.filter((job) => job.kind === "webhook" && job.toAddress === url);
}

function verified(secret: string, request: Received) {
  return new Webhook(secret).verify(request.body, {
    "webhook-id": String(request.headers["webhook-id"]),
    "webhook-timestamp": String(request.headers["webhook-timestamp"]),
    "webhook-signature": String(request.headers["webhook-signature"]),
  }) as { type: string; timestamp: string; data: { roomId: string; message?: { content: string } } };
}

describe("webhook deliveries", () => {
  it("delivers a room's event signed the Standard Webhooks way: the package's own Webhook.verify accepts it", async () => {
    await using receiver = await startReceiver();
    const { owner, room } = await roomWith(t, false);
    const hook = await admin.api.admin.webhooks.create.mutate({
      url: receiver.url,
      roomId: room.id,
      eventTypes: ["message.created"],
    });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const message = await send(owner.api, room.id, "Hello, hooks");
    const clock = manualClock();
    expect(await workerFor(clock).drain()).toMatchObject({ sent: 1, dead: 0, retried: 0 });

    const [request] = receiver.received;
    const payload = verified(hook.secret, must(request));
    expect(payload.type).toBe("message.created");
    expect(payload.data.roomId).toBe(room.id);
    expect(payload.data.message?.content).toBe("Hello, hooks");
    expect(request?.headers["content-type"]).toBe("application/json");
    // The webhook-id is the outbox job's id: the same on a retry, for the receiver's deduplication.
    const [job] = await jobsOf(receiver.url);
    expect(job).toMatchObject({ status: "sent", template: "message.created", attempts: 1 });
    expect(request?.headers["webhook-id"]).toBe(job?.id);
    // A body changed on the way, or another secret, does not verify.
    const tampered = { ...must(request), body: must(request).body.replace("Hello, hooks", "Hello, hookz") };
    expect(() => verified(hook.secret, tampered)).toThrow();
    expect(() => verified(`whsec_${Buffer.alloc(32, 7).toString("base64")}`, must(request))).toThrow();
    expect(message.content).toBe("Hello, hooks");
    // The secret is shown once: the list never has it.
    const listed = (await admin.api.admin.webhooks.list.query()).find((row) => row.id === hook.id);
    expect(listed).toMatchObject({ url: receiver.url, roomId: room.id, eventTypes: ["message.created"] });
    expect(JSON.stringify(listed)).not.toContain("whsec_");
  });

  it("delivers only the chosen event types, from every path that writes events (send, thread reply, edit)", async () => {
    await using receiver = await startReceiver();
    const { owner, room } = await roomWith(t, false);
    await admin.api.admin.webhooks.create.mutate({
      url: receiver.url,
      roomId: room.id,
      eventTypes: ["message.updated", "thread.updated"],
    });
    const root = await send(owner.api, room.id, "Root");
    await owner.api.chat.messages.edit.mutate({ messageId: root.id, content: "Root, edited" });
    await owner.api.chat.messages.react.mutate({ messageId: root.id, emoji: "👍" });
    await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      parentId: root.id,
      content: "A reply",
      clientMessageId: randomUUID(),
    });
    await workerFor(manualClock()).drain();
    const types = receiver.received.map((request) => (JSON.parse(request.body) as { type: string }).type);
    expect(types.sort()).toEqual(["message.updated", "thread.updated"]);
  });

  it("queues exactly one delivery per committed event under concurrent sends, and none for a send that rolled back", async () => {
    const { owner, room } = await roomWith(t, false);
    const url = "http://127.0.0.1:9/exactly-once";
    await admin.api.admin.webhooks.create.mutate({ url, roomId: room.id, eventTypes: ["message.created"] });
    const db = t.server.deps.db;
    for (let round = 0; round < 20; round++) {
      // Two sends race on one clientMessageId (one stores, the other's statement rolls back or finds
      // it), beside three distinct sends.
      const clientMessageId = randomUUID();
      const twice = () =>
        owner.api.chat.messages.send.mutate({ roomId: room.id, content: "Same", clientMessageId });
      await Promise.all([
        twice(),
        twice(),
        ...[1, 2, 3].map((n) => send(owner.api, room.id, `Distinct ${n}`)),
      ]);
    }
    const jobs = await db
      .select({ data: schema.emailOutbox.data })
      .from(schema.emailOutbox)
      .where(eq(schema.emailOutbox.toAddress, url));
    const seqs = jobs.map((job) => (job.data as { payload: { data: { seq: number } } }).payload.data.seq);
    const events = await db
      .select({ seq: schema.roomEvents.seq })
      .from(schema.roomEvents)
      .where(eq(schema.roomEvents.roomId, room.id));
    const created = await db
      .select({ seq: schema.messages.seq })
      .from(schema.messages)
      .where(eq(schema.messages.roomId, room.id));
    expect(created).toHaveLength(80);
    expect(seqs.sort((a, b) => a - b)).toEqual(created.map((row) => row.seq).sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.length).toBeGreaterThanOrEqual(80);
  });

  it("misses no event of a webhook registered while sends run, and queues nothing while none is active (the trigger's guard)", async () => {
    const { owner, room } = await roomWith(t, false);
    const db = t.server.deps.db;
    const queuedSeqs = async (url: string) =>
      (
        await db
          .select({ data: schema.emailOutbox.data })
          .from(schema.emailOutbox)
          .where(eq(schema.emailOutbox.toAddress, url))
      ).map((job) => (job.data as { payload: { data: { seq: number } } }).payload.data.seq);
    const idle = await admin.api.admin.webhooks.create.mutate({
      url: "http://127.0.0.1:9/inactive",
      roomId: room.id,
      eventTypes: ["message.created"],
    });
    await admin.api.admin.webhooks.update.mutate({ id: idle.id, active: false });
    for (let round = 0; round < 20; round++) {
      const url = `http://127.0.0.1:9/registered-mid-stream-${round}`;
      let registered = false;
      const begunAfter: number[] = [];
      // Four senders in a loop; the webhook is registered while their sends are in flight. A send
      // begun once the registration has returned must be queued; those in flight may go either way.
      const sender = async (n: number) => {
        for (let sentAfter = 0; sentAfter < 3; ) {
          const after = registered;
          const message = await send(owner.api, room.id, `Round ${round}, sender ${n}`);
          if (after) {
            begunAfter.push(message.seq);
            sentAfter++;
          }
        }
      };
      const senders = Promise.all([1, 2, 3, 4].map(sender));
      await admin.api.admin.webhooks.create.mutate({ url, roomId: room.id, eventTypes: ["message.created"] });
      registered = true;
      await senders;
      expect(begunAfter).toHaveLength(12);
      const queued = new Set(await queuedSeqs(url));
      expect(begunAfter.filter((seq) => !queued.has(seq))).toEqual([]);
    }
    expect(await queuedSeqs("http://127.0.0.1:9/inactive")).toEqual([]);
  });

  it("retries a 500 with backoff, then succeeds with the same webhook-id; admin.jobs shows both attempts", async () => {
    await using receiver = await startReceiver((n, res) => (n === 1 ? failWith(500)(n, res) : res.end("ok")));
    const { owner, room } = await roomWith(t, false);
    await admin.api.admin.webhooks.create.mutate({
      url: receiver.url,
      roomId: room.id,
      eventTypes: ["message.created"],
    });
    await send(owner.api, room.id, "Try again");
    const clock = manualClock();
    const worker = workerFor(clock);
    expect(await worker.drain()).toMatchObject({ claimed: 1, retried: 1, sent: 0 });
    const [waiting] = await jobsOf(receiver.url);
    expect(waiting).toMatchObject({ status: "pending", attempts: 1 });
    expect(waiting?.lastError).toContain("HTTP 500");
    // Not due before its backoff has passed.
    expect(await worker.drain()).toMatchObject({ claimed: 0 });
    clock.advance(HOUR_MS);
    expect(await worker.drain()).toMatchObject({ sent: 1 });
    const [sent] = await jobsOf(receiver.url);
    expect(sent).toMatchObject({ status: "sent", attempts: 2, recordedAttempts: 2, lastError: null });
    expect(receiver.received.map((request) => request.headers["webhook-id"])).toEqual([sent?.id, sent?.id]);
    expect(await rejectionOf(admin.api.admin.jobs.retry.mutate({ id: must(sent).id }))).toEqual({
      code: "CONFLICT",
      message: "This delivery was already sent",
    });
  });

  it("ends a delivery whose receiver always fails as a dead job in admin.jobs, which admin.jobs.retry sends again", async () => {
    await using receiver = await startReceiver(failWith(503));
    const { owner, room } = await roomWith(t, false);
    await admin.api.admin.webhooks.create.mutate({
      url: receiver.url,
      roomId: room.id,
      eventTypes: ["message.created"],
    });
    await send(owner.api, room.id, "Nobody home");
    const clock = manualClock();
    const worker = workerFor(clock);
    let dead = 0;
    for (let pass = 0; pass < 20 && dead === 0; pass++) {
      dead += (await worker.drain()).dead;
      clock.advance(HOUR_MS);
    }
    expect(dead).toBe(1);
    const deadJobs = (await admin.api.admin.jobs.list.query({ status: "dead", limit: 100 })).items.filter(
      (job) => job.toAddress === receiver.url,
    );
    expect(deadJobs).toHaveLength(1);
    expect(deadJobs[0]).toMatchObject({ kind: "webhook", template: "message.created", attempts: 8 });
    expect(deadJobs[0]?.lastError).toContain("HTTP 503");
    expect(receiver.received).toHaveLength(8);
    await admin.api.admin.jobs.retry.mutate({ id: must(deadJobs[0]).id });
    expect(await worker.drain()).toMatchObject({ claimed: 1 });
    expect(receiver.received).toHaveLength(9);
  });

  it("never tells a global webhook of a private room or a DM; a room webhook sees its private room", async () => {
    await using global = await startReceiver();
    await using roomHook = await startReceiver();
    const { owner: publicOwner, room: publicRoom } = await roomWith(t, false);
    const { owner: privateOwner, room: privateRoom } = await roomWith(t, true);
    const globalHook = await admin.api.admin.webhooks.create.mutate({
      url: global.url,
      eventTypes: ["message.created", "member.joined", "room.updated", "reaction.added"],
    });
    const roomHookRow = await admin.api.admin.webhooks.create.mutate({
      url: roomHook.url,
      roomId: privateRoom.id,
      eventTypes: ["message.created"],
    });
    const friend = await signUp(t, "Friend");
    const dm = await privateOwner.api.chat.dms.open.mutate({ userIds: [friend.user.id] });
    await send(privateOwner.api, dm.id, "A secret in a DM");
    await send(privateOwner.api, privateRoom.id, "A secret in a private room");
    await privateOwner.api.chat.rooms.invite.mutate({ roomId: privateRoom.id, userId: friend.user.id });
    await send(publicOwner.api, publicRoom.id, "Hello, world");
    // A public room turned private: what follows is not the global webhook's any more.
    await publicOwner.api.chat.rooms.update.mutate({ roomId: publicRoom.id, isPrivate: true });
    await send(publicOwner.api, publicRoom.id, "Now private");
    // A room webhook on a DM is refused as an unknown room would be.
    expect(
      await codeOf(
        admin.api.admin.webhooks.create.mutate({
          url: global.url,
          roomId: dm.id,
          eventTypes: ["message.created"],
        }),
      ),
    ).toBe("NOT_FOUND");
    await workerFor(manualClock()).drain();

    const seen = global.received.map((request) => verified(globalHook.secret, request));
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.map((event) => event.data.roomId))).toEqual(new Set([publicRoom.id]));
    const contents = global.received.map((request) => request.body).join("\n");
    expect(contents).not.toContain("secret");
    expect(contents).not.toContain("Now private");
    expect(
      roomHook.received.map((request) => verified(roomHookRow.secret, request).data.message?.content),
    ).toEqual(["A secret in a private room"]);
  });

  it("sends a test delivery (webhook.test) on admin.webhooks.test, and nothing once the webhook is disabled or deleted", async () => {
    await using receiver = await startReceiver();
    const { owner, room } = await roomWith(t, false);
    const hook = await admin.api.admin.webhooks.create.mutate({
      url: receiver.url,
      roomId: room.id,
      eventTypes: ["message.created"],
    });
    const { jobId } = await admin.api.admin.webhooks.test.mutate({ id: hook.id });
    const worker = workerFor(manualClock());
    await worker.drain();
    expect(receiver.received.map((request) => verified(hook.secret, request).type)).toEqual(["webhook.test"]);
    expect(receiver.received[0]?.headers["webhook-id"]).toBe(jobId);

    await admin.api.admin.webhooks.update.mutate({ id: hook.id, active: false });
    await send(owner.api, room.id, "Unheard");
    expect(await codeOf(admin.api.admin.webhooks.test.mutate({ id: hook.id }))).toBe("CONFLICT");
    await admin.api.admin.webhooks.update.mutate({ id: hook.id, active: true });
    await send(owner.api, room.id, "Queued, then deleted");
    await admin.api.admin.webhooks.delete.mutate({ id: hook.id });
    expect(await worker.drain()).toMatchObject({ sent: 0, dead: 1 });
    expect(receiver.received).toHaveLength(1);
    expect(await codeOf(admin.api.admin.webhooks.delete.mutate({ id: hook.id }))).toBe("NOT_FOUND");
    expect(await codeOf(admin.api.admin.webhooks.update.mutate({ id: hook.id, active: true }))).toBe(
      "NOT_FOUND",
    );
  });

  it("follows no redirect, reads no more than a few KB of an answer, and gives up on a receiver that never answers", async () => {
    await using redirecting = await startReceiver((_n, res) => {
      res.statusCode = 302;
      res.setHeader("location", "/elsewhere");
      res.end();
    });
    await using chatty = await startReceiver((_n, res) => {
      res.statusCode = 400;
      res.end("x".repeat(1_000_000));
    });
    await using silent = await startReceiver(() => undefined);
    const { owner, room } = await roomWith(t, false);
    for (const url of [redirecting.url, chatty.url, silent.url]) {
      await admin.api.admin.webhooks.create.mutate({ url, roomId: room.id, eventTypes: ["message.created"] });
    }
    await send(owner.api, room.id, "Anyone?");
    expect(await workerFor(manualClock(), undefined, 300).drain()).toMatchObject({ claimed: 3, retried: 3 });
    expect(redirecting.received.map((request) => request.headers["webhook-id"] !== undefined)).toEqual([
      true,
    ]);
    expect((await jobsOf(redirecting.url))[0]?.lastError).toContain("redirects are not followed");
    const chattyError = must((await jobsOf(chatty.url))[0]?.lastError);
    expect(chattyError).toContain("HTTP 400");
    expect(chattyError.length).toBeLessThanOrEqual(1000);
    expect(silent.received).toHaveLength(1);
    expect((await jobsOf(silent.url))[0]?.lastError).toMatch(/TimeoutError|AbortError|abort/i);
  });
});

describe("private addresses (SSRF)", () => {
  const PRIVATE_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://224.0.0.1/hook",
    "http://[::ffff:127.0.0.1]/hook",
  ];

  it("refuses in production, at registration, a URL whose host resolves to a private address, whatever WEBHOOKS_ALLOW_PRIVATE says", async () => {
    await using production = await startTestServer({
      production: true,
      emailWorker: { enabled: false },
      webhooks: { allowPrivate: true },
    });
    const boss = await signUp(production, "Admin");
    await makeAdmin(production, boss.user.id);
    for (const url of PRIVATE_URLS) {
      const refusal = await rejectionOf(
        boss.api.admin.webhooks.create.mutate({ url, eventTypes: ["message.created"] }),
      );
      expect(refusal.code, url).toBe("BAD_REQUEST");
      expect(refusal.message, url).toMatch(/loopback, private, link-local or reserved/);
    }
    expect(await production.server.deps.db.select().from(schema.webhooks)).toEqual([]);
    expect(
      (
        await rejectionOf(
          boss.api.admin.webhooks.update.mutate({ id: randomUUID(), url: "http://127.0.0.1/" }),
        )
      ).code,
    ).toBe("BAD_REQUEST");
  });

  it("refuses at delivery time a host that now resolves to a private address, and connects to the address it checked", async () => {
    await using receiver = await startReceiver();
    const { owner, room } = await roomWith(t, false);
    // Registered while the name pointed elsewhere; now it resolves to loopback (DNS rebinding).
    const hook = await admin.api.admin.webhooks.create.mutate({
      url: `http://rebound.test:${receiver.port}/hook`,
      roomId: room.id,
      eventTypes: ["message.created"],
    });
    const toLoopback: HostResolver = async () => [{ address: "127.0.0.1", family: 4 }];
    await send(owner.api, room.id, "To the metadata service?");
    const production = createWebhookAddresses({ allowPrivate: false, resolve: toLoopback });
    expect(await workerFor(manualClock(), production).drain()).toMatchObject({ dead: 1, sent: 0 });
    expect(receiver.received).toHaveLength(0);
    const [job] = await jobsOf(`http://rebound.test:${receiver.port}/hook`);
    expect(job).toMatchObject({ status: "dead", attempts: 1 });
    expect(job?.lastError).toMatch(/loopback, private, link-local or reserved/);

    // Where allowed, the connection goes to the checked address: rebound.test is in no DNS.
    await send(owner.api, room.id, "Pinned");
    const allowed = createWebhookAddresses({ allowPrivate: true, resolve: toLoopback });
    expect(await workerFor(manualClock(), allowed).drain()).toMatchObject({ sent: 1 });
    expect(verified(hook.secret, must(receiver.received[0])).data.message?.content).toBe("Pinned");
    expect(receiver.received[0]?.headers.host).toBe(`rebound.test:${receiver.port}`);
  });

  it("refuses for good a host with any private address among its public ones; a name that does not resolve only for now", async () => {
    const mixed = createWebhookAddresses({
      allowPrivate: false,
      resolve: async () => [
        { address: "93.184.215.14", family: 4 },
        { address: "10.0.0.5", family: 4 },
      ],
    });
    expect(await mixed.check("https://hooks.example/x")).toMatchObject({ ok: false, refused: true });
    const unresolved = createWebhookAddresses({
      allowPrivate: false,
      resolve: async () => {
        throw new Error("getaddrinfo ENOTFOUND hooks.example");
      },
    });
    expect(await unresolved.check("https://hooks.example/x")).toMatchObject({ ok: false, refused: false });
    const publicOnly = createWebhookAddresses({
      allowPrivate: false,
      resolve: async () => [{ address: "93.184.215.14", family: 4 }],
    });
    expect(await publicOnly.check("https://hooks.example/x")).toEqual({
      ok: true,
      address: { address: "93.184.215.14", family: 4 },
    });
  });
});
