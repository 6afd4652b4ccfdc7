import {
  createEmailWorker,
  createRecordingTransport,
  type EmailWorker,
  enqueueEmail,
  type MailTransport,
} from "@parley/core";
import { createDb, type Database, type DbHandle, migrate, schema } from "@parley/db";
import { createFreshDatabase, type FreshDatabase } from "@parley/testing/fresh-database";
import { type SmtpSink, startSmtpSink } from "@parley/testing/smtp-sink";
import { spawnWorker, type WorkerProcess } from "@parley/testing/worker-process";
import { asc, count, eq, inArray } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const BASE_MS = 30_000;
const HOUR_MS = 60 * 60 * 1000;

let database: FreshDatabase;
// Two handles, two pools: as two instances of the service would connect.
let first: DbHandle;
let second: DbHandle;
beforeAll(async () => {
  database = await createFreshDatabase(inject("databaseUrl"));
  first = await createDb({ url: database.url, poolSize: 4 });
  second = await createDb({ url: database.url, poolSize: 4 });
  await migrate(first);
});
// Each test starts from an empty outbox: a job left waiting by one must not be claimed by the next.
afterEach(async () => {
  await first.db.delete(schema.recordedEmails);
  await first.db.delete(schema.emailOutbox);
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await database?.drop();
});

/** A clock the test moves: retries become due without waiting for them. */
// A second ahead: the database stamps run_at with now() in microseconds, the clock counts in
// milliseconds, and a job queued within the same millisecond would not be due yet (seen in CI).
function manualClock(start = Date.now() + 1_000) {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Queues `n` receipts to distinct addresses under `prefix`; returns their job ids. */
async function enqueueReceipts(prefix: string, n: number, maxAttempts?: number): Promise<string[]> {
  const addresses = Array.from({ length: n }, (_, i) => `${prefix}-${i}@example.com`);
  for (const to of addresses) {
    await enqueueEmail(
      first.db,
      to,
      { template: "form-receipt", data: { kind: "contact", name: "Ada" } },
      { maxAttempts },
    );
  }
  const rows = await first.db
    .select({ id: schema.emailOutbox.id })
    .from(schema.emailOutbox)
    .where(inArray(schema.emailOutbox.toAddress, addresses));
  return rows.map((row) => row.id);
}

async function jobs(ids: string[]) {
  return first.db.select().from(schema.emailOutbox).where(inArray(schema.emailOutbox.id, ids));
}

async function attemptsOf(ids: string[]) {
  return first.db
    .select()
    .from(schema.emailAttempts)
    .where(inArray(schema.emailAttempts.jobId, ids))
    .orderBy(asc(schema.emailAttempts.jobId), asc(schema.emailAttempts.attempt));
}

async function recordingsPerJob(ids: string[]) {
  return first.db
    .select({ jobId: schema.recordedEmails.jobId, n: count() })
    .from(schema.recordedEmails)
    .where(inArray(schema.recordedEmails.jobId, ids))
    .groupBy(schema.recordedEmails.jobId);
}

/**
 * The recording transport of one database handle, failing each job's first `failFirst`
 * attempts and counting the sends that succeeded, per job, across every worker sharing it.
 */
function flakyTransport(
  db: Database,
  shared: { calls: Map<string, number>; delivered: Map<string, number> },
) {
  const recording = createRecordingTransport(db);
  return (failFirst: number, failAlways: (to: string) => boolean = () => false): MailTransport => ({
    kind: "recording",
    async send(email, options) {
      const call = (shared.calls.get(email.jobId) ?? 0) + 1;
      shared.calls.set(email.jobId, call);
      // A little latency, so the two workers' passes interleave.
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (call <= failFirst || failAlways(email.to)) throw new Error(`simulated outage (call ${call})`);
      await recording.send(email, options);
      shared.delivered.set(email.jobId, (shared.delivered.get(email.jobId) ?? 0) + 1);
    },
    close() {},
  });
}

/** A transport whose one send waits until the test finishes it, with success or the given error. */
function heldTransport() {
  let begin = () => {};
  const started = new Promise<void>((resolve) => {
    begin = resolve;
  });
  let finish: (error?: Error) => void = () => {};
  const finished = new Promise<Error | undefined>((resolve) => {
    finish = resolve;
  });
  const transport: MailTransport = {
    kind: "recording",
    async send() {
      begin();
      const error = await finished;
      if (error) throw error;
    },
    close() {},
  };
  return { transport, started, finish: (error?: Error) => finish(error) };
}

function workerOn(db: Database, transport: MailTransport, clock: () => Date, batchSize = 5): EmailWorker {
  return createEmailWorker({
    db,
    transport,
    log,
    from: "Parley <no-reply@example.com>",
    publicOrigin: "http://localhost:3000",
    clock,
    batchSize,
    backoffBaseMs: BASE_MS,
  });
}

describe("the email worker", () => {
  it("two workers draining one outbox at once deliver every email exactly once, through retries, recording each attempt", async () => {
    const ids = await enqueueReceipts("pair", 40);
    const clock = manualClock();
    const shared = { calls: new Map<string, number>(), delivered: new Map<string, number>() };
    const a = workerOn(first.db, flakyTransport(first.db, shared)(2), clock.now);
    const b = workerOn(second.db, flakyTransport(second.db, shared)(2), clock.now);
    const claimedBy = { a: 0, b: 0 };
    for (let round = 0; round < 10; round++) {
      const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
      claimedBy.a += ra.claimed;
      claimedBy.b += rb.claimed;
      if ((await jobs(ids)).every((job) => job.status === "sent")) break;
      clock.advance(HOUR_MS);
    }
    expect(claimedBy.a).toBeGreaterThan(0);
    expect(claimedBy.b).toBeGreaterThan(0);
    expect(claimedBy.a + claimedBy.b).toBe(40 * 3);

    for (const job of await jobs(ids)) {
      expect(job).toMatchObject({ status: "sent", attempts: 3, lockedUntil: null, leaseId: null });
      expect(job.sentAt).toBeInstanceOf(Date);
    }
    for (const id of ids) expect(shared.delivered.get(id), id).toBe(1);
    const recordings = await recordingsPerJob(ids);
    expect(recordings).toHaveLength(40);
    expect(recordings.every((row) => row.n === 1)).toBe(true);

    const attempts = await attemptsOf(ids);
    expect(attempts).toHaveLength(40 * 3);
    for (const id of ids) {
      const mine = attempts.filter((row) => row.jobId === id);
      expect(mine.map((row) => row.attempt)).toEqual([1, 2, 3]);
      expect(mine.map((row) => row.error === null)).toEqual([false, false, true]);
      expect(mine[0]?.error).toMatch(/simulated outage/);
      expect(mine.every((row) => row.finishedAt instanceof Date)).toBe(true);
    }
  });

  it("retries after an exponentially growing, jittered delay and not before", async () => {
    const [id = ""] = await enqueueReceipts("backoff", 1);
    const clock = manualClock();
    const shared = { calls: new Map<string, number>(), delivered: new Map<string, number>() };
    const worker = workerOn(first.db, flakyTransport(first.db, shared)(10), clock.now);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const before = clock.now().getTime();
      expect((await worker.runOnce()).retried).toBe(1);
      const [job] = await jobs([id]);
      expect(job?.status).toBe("pending");
      expect(job?.lastError).toMatch(/simulated outage/);
      const delay = (job?.runAt.getTime() ?? 0) - before;
      delays.push(delay);
      const ceiling = BASE_MS * 2 ** (attempt - 1);
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
      // Not due yet: a pass just before the retry time claims nothing.
      clock.advance(delay - 1);
      expect((await worker.runOnce()).claimed).toBe(0);
      clock.advance(1);
    }
    expect(delays[2] ?? 0).toBeGreaterThan(delays[0] ?? 0);
  });

  it("marks a job dead after its last allowed attempt, with every attempt recorded, and sends nothing", async () => {
    const ids = await enqueueReceipts("doomed", 2, 3);
    const clock = manualClock();
    const shared = { calls: new Map<string, number>(), delivered: new Map<string, number>() };
    const a = workerOn(
      first.db,
      flakyTransport(first.db, shared)(0, (to) => to.startsWith("doomed")),
      clock.now,
    );
    const b = workerOn(
      second.db,
      flakyTransport(second.db, shared)(0, (to) => to.startsWith("doomed")),
      clock.now,
    );
    for (let round = 0; round < 5; round++) {
      await Promise.all([a.drain(), b.drain()]);
      clock.advance(HOUR_MS);
    }
    for (const job of await jobs(ids)) {
      expect(job).toMatchObject({ status: "dead", attempts: 3, maxAttempts: 3 });
      expect(job.lastError).toMatch(/simulated outage/);
    }
    const attempts = await attemptsOf(ids);
    expect(attempts).toHaveLength(6);
    expect(attempts.every((row) => row.error !== null && row.finishedAt !== null)).toBe(true);
    expect(await recordingsPerJob(ids)).toEqual([]);
    // Dead stays dead: later passes leave it alone.
    clock.advance(24 * HOUR_MS);
    expect((await a.drain()).claimed).toBe(0);
  });

  it("gives up at once on a permanent SMTP refusal (5xx) and on a job it cannot render", async () => {
    const [refused = ""] = await enqueueReceipts("refused", 1);
    await first.db.insert(schema.emailOutbox).values({
      template: "no-such-template",
      toAddress: "broken@example.com",
      data: {},
    });
    const [broken] = await first.db
      .select({ id: schema.emailOutbox.id })
      .from(schema.emailOutbox)
      .where(eq(schema.emailOutbox.toAddress, "broken@example.com"));
    const refusing: MailTransport = {
      kind: "smtp",
      async send() {
        throw Object.assign(new Error("550 5.1.1 mailbox unavailable"), { responseCode: 550 });
      },
      close() {},
    };
    const worker = workerOn(first.db, refusing, manualClock().now);
    await worker.drain();
    const [refusedJob, brokenJob] = await jobs([refused]).then(async (rows) => [
      rows[0],
      (await jobs([broken?.id ?? ""]))[0],
    ]);
    expect(refusedJob).toMatchObject({ status: "dead", attempts: 1 });
    expect(refusedJob?.lastError).toMatch(/550/);
    expect(brokenJob).toMatchObject({ status: "dead", attempts: 1 });
    expect(brokenJob?.lastError).toMatch(/cannot render/);
  });

  it("takes over the jobs of a worker that stopped mid-send once its lease ends; the late report of the first changes nothing", async () => {
    const ids = await enqueueReceipts("stalled", 3);
    const clock = manualClock();
    // The first worker's transport records the email, then never returns: as if the process
    // died after the message left but before it could mark the job sent.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = new Set<string>();
    let allStarted = () => {};
    const stalled = new Promise<void>((resolve) => {
      allStarted = resolve;
    });
    const recording = createRecordingTransport(first.db);
    const stalling: MailTransport = {
      kind: "recording",
      async send(email, options) {
        await recording.send(email, options);
        started.add(email.jobId);
        if (ids.every((id) => started.has(id))) allStarted();
        await released;
      },
      close() {},
    };
    const dying = workerOn(first.db, stalling, clock.now, 10);
    const firstPass = dying.runOnce();
    await stalled;
    expect((await jobs(ids)).every((job) => job.status === "sending")).toBe(true);

    const shared = { calls: new Map<string, number>(), delivered: new Map<string, number>() };
    const rescuer = workerOn(second.db, flakyTransport(second.db, shared)(0), clock.now, 10);
    // Still within the lease: nothing to take over.
    expect((await rescuer.drain()).claimed).toBe(0);
    clock.advance(60_000);
    expect((await rescuer.drain()).sent).toBe(3);

    for (const job of await jobs(ids)) expect(job).toMatchObject({ status: "sent", attempts: 2 });
    const recordings = await recordingsPerJob(ids);
    expect(recordings).toHaveLength(3);
    expect(recordings.every((row) => row.n === 1)).toBe(true);
    const attempts = await attemptsOf(ids);
    expect(
      attempts.filter((row) => row.attempt === 1).every((row) => /abandoned/.test(row.error ?? "")),
    ).toBe(true);

    // The first worker wakes up and reports: its lease is gone, so the job's state stays the rescuer's.
    release();
    expect(await firstPass).toMatchObject({ claimed: 3 });
    for (const job of await jobs(ids)) expect(job).toMatchObject({ status: "sent", attempts: 2 });
    expect(await recordingsPerJob(ids)).toHaveLength(3);
  });
  it("a worker whose lease ran out reports after another worker took its job over: the report changes nothing, the other's outcome stands", async () => {
    const [id] = await enqueueReceipts("overtaken", 1);
    if (!id) throw new Error("no job queued");
    const clock = manualClock();
    const late = heldTransport();
    const rescuing = heldTransport();
    const overtaken = workerOn(first.db, late.transport, clock.now);
    const rescuer = workerOn(second.db, rescuing.transport, clock.now);

    const latePass = overtaken.runOnce();
    await late.started;
    clock.advance(60_000);
    const rescuePass = rescuer.runOnce();
    await rescuing.started;
    // The rescuer's attempt fails: the job waits for a retry, a state the late success must not overwrite.
    rescuing.finish(new Error("simulated outage"));
    expect(await rescuePass).toMatchObject({ claimed: 1, retried: 1 });
    const [retrying] = await jobs([id]);
    expect(retrying).toMatchObject({ status: "pending", attempts: 2, leaseId: null, sentAt: null });
    expect(retrying?.lastError).toMatch(/simulated outage/);

    late.finish();
    await latePass;
    expect((await jobs([id]))[0]).toEqual(retrying);
    const attempts = await attemptsOf([id]);
    expect(attempts.map((row) => row.attempt)).toEqual([1, 2]);
    expect(attempts[1]?.error).toMatch(/simulated outage/);
  });
  it("buries a job whose lease ran out during its last allowed attempt: dead, its attempt closed as abandoned, counted once", async () => {
    const [id] = await enqueueReceipts("last-try", 1, 1);
    if (!id) throw new Error("no job queued");
    const clock = manualClock();
    const stalled = heldTransport();
    const dying = workerOn(first.db, stalled.transport, clock.now);
    const dyingPass = dying.runOnce();
    await stalled.started;
    const survivor = workerOn(second.db, heldTransport().transport, clock.now);
    // Within the lease the job still belongs to the first worker.
    expect(await survivor.runOnce()).toEqual({ claimed: 0, sent: 0, retried: 0, dead: 0 });
    clock.advance(60_000);
    expect(await survivor.runOnce()).toEqual({ claimed: 0, sent: 0, retried: 0, dead: 1 });
    expect((await jobs([id]))[0]).toMatchObject({
      status: "dead",
      attempts: 1,
      leaseId: null,
      lockedUntil: null,
    });
    expect((await jobs([id]))[0]?.lastError).toMatch(/abandoned/);
    const [attempt] = await attemptsOf([id]);
    expect(attempt?.error).toMatch(/abandoned/);
    expect(attempt?.finishedAt).toEqual(clock.now());
    // Buried once: the next pass finds nothing to bury.
    expect((await survivor.runOnce()).dead).toBe(0);
    stalled.finish();
    await dyingPass;
    expect((await jobs([id]))[0]?.status).toBe("dead");
  });

  it("retries on a temporary SMTP refusal (4xx), unlike a permanent one (5xx)", async () => {
    const [id] = await enqueueReceipts("greylisted", 1);
    if (!id) throw new Error("no job queued");
    const greylisting: MailTransport = {
      kind: "smtp",
      async send() {
        throw Object.assign(new Error("450 4.2.0 greylisted, try later"), { responseCode: 450 });
      },
      close() {},
    };
    const worker = workerOn(first.db, greylisting, manualClock().now);
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1, dead: 0 });
    expect((await jobs([id]))[0]).toMatchObject({ status: "pending", attempts: 1 });
  });

  it("gives up a send at half its lease, before another worker may take the job over, and retries it", async () => {
    const [id] = await enqueueReceipts("slow-smtp", 1);
    if (!id) throw new Error("no job queued");
    let abortedAfterMs = Number.NaN;
    const hanging: MailTransport = {
      kind: "smtp",
      send(_email, { signal }) {
        const started = Date.now();
        return new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => {
            abortedAfterMs = Date.now() - started;
            reject(signal.reason);
          });
        });
      },
      close() {},
    };
    const worker = createEmailWorker({
      db: first.db,
      transport: hanging,
      log,
      from: "Parley <no-reply@example.com>",
      publicOrigin: "http://localhost:3000",
      clock: manualClock().now,
      leaseMs: 400,
    });
    expect(await worker.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    expect(abortedAfterMs).toBeGreaterThanOrEqual(150);
    expect(abortedAfterMs).toBeLessThan(400);
    expect((await jobs([id]))[0]).toMatchObject({ status: "pending", attempts: 1 });
  });
});

describe("`pnpm worker` processes over real SMTP", () => {
  let sink: SmtpSink;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await sink?.close();
  });

  it("a worker killed mid-send loses nothing: two restarted workers deliver every email exactly once", async () => {
    const ids = await enqueueReceipts("smtp", 20);
    const env = {
      DATABASE_URL: database.url,
      SMTP_URL: sink.url,
      MAIL_FROM: "Parley <no-reply@example.com>",
      EMAIL_LEASE_MS: "1500",
      EMAIL_WORKER_POLL_MS: "50",
      EMAIL_BACKOFF_MS: "100",
    };
    // The server takes each message's DATA and never answers: the worker is stuck mid-send.
    sink.setHolding(true);
    const doomed = await spawnWorker(env);
    workers.push(doomed);
    await sink.heldAtLeast(1);
    await doomed.kill();
    expect((await jobs(ids)).some((job) => job.status === "sending")).toBe(true);

    sink.setHolding(false);
    // The doomed worker's claims run out after 1.5 s; the restarted workers' own claims last a
    // minute, so a send slowed by a loaded machine is never taken over and sent twice by the
    // other one (a lease shorter than a send is at-least-once by design, not what this tests).
    const healthy = { ...env, EMAIL_LEASE_MS: "60000" };
    const restarted = await Promise.all([spawnWorker(healthy), spawnWorker(healthy)]);
    workers.push(...restarted);
    await sink.acceptedAtLeast(20);
    // The workers mark a job sent just after the server's 250: wait for their commits.
    for (let i = 0; i < 200 && !(await jobs(ids)).every((job) => job.status === "sent"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    const accepted = sink.accepted();
    const perJob = new Map<string, number>();
    for (const message of accepted)
      perJob.set(message.jobId ?? "", (perJob.get(message.jobId ?? "") ?? 0) + 1);
    expect(accepted).toHaveLength(20);
    for (const id of ids) expect(perJob.get(id), id).toBe(1);
    expect(sink.held().length).toBeGreaterThan(0);
    expect(sink.held().every((message) => message.jobId !== null && ids.includes(message.jobId))).toBe(true);
    for (const job of await jobs(ids)) expect(job.status).toBe("sent");
    const retried = new Set(sink.held().map((message) => message.jobId));
    for (const job of await jobs(ids)) {
      if (retried.has(job.id)) expect(job.attempts).toBe(2);
    }
    expect(accepted[0]?.raw).toMatch(/^Subject: Parley: we received your message/m);
    expect(accepted[0]?.raw).toMatch(/^Content-Type: multipart\/alternative/m);
    await Promise.all(restarted.map((worker) => worker.stop()));
  });
});
