import { randomUUID } from "node:crypto";
import { type Database, schema } from "@parley/db";
import { and, asc, eq, gte, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { emailTemplateSchema, type RenderedEmail, renderEmail } from "../../domain/email/email-templates.ts";
import type { WebhookDeliverer } from "../webhooks/webhook-delivery.ts";
import { defaultEmailWorkerSettings, type EmailWorkerSettings } from "./email-worker-settings.ts";
import type { MailTransport } from "./mail-transport.ts";

export { defaultEmailWorkerSettings, type EmailWorkerSettings };

export interface EmailWorkerOptions extends Partial<EmailWorkerSettings> {
  db: Database;
  transport: MailTransport;
  log: Logger;
  /** The From of every email, e.g. "Parley <no-reply@example.com>". */
  from: string;
  /** The site's origin, for links in the emails. */
  publicOrigin: string;
  clock?: () => Date;
  random?: () => number;
  /**
   * Sends the outbox's webhook jobs: same leases, backoff and dead letters as emails. Without it,
   * this worker leaves webhook jobs to workers that have one.
   */
  webhooks?: WebhookDeliverer;
}

/** What one pass did. */
export interface PassResult {
  claimed: number;
  sent: number;
  retried: number;
  dead: number;
}

export interface EmailWorker {
  /** Starts polling in the background. */
  start(): void;
  /** One pass: claims the due jobs, sends them, records the outcomes. Passes never overlap. */
  runOnce(): Promise<PassResult>;
  /** Passes until one finds nothing due: everything sendable now has been tried. */
  drain(): Promise<PassResult>;
  /** Stops polling and waits for the pass in flight. */
  stop(): Promise<void>;
}

interface ClaimedJob {
  id: string;
  kind: "email" | "webhook";
  template: string;
  toAddress: string;
  data: unknown;
  attempts: number;
  maxAttempts: number;
  attemptId: string;
}

type Outcome = { ok: true } | { ok: false; error: string; permanent: boolean };

const ABANDONED = "abandoned: the worker's lease expired before it reported (stopped or crashed?)";
const MAX_DRAIN_PASSES = 10_000;

function describeError(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.slice(0, 1000);
}

/** An SMTP 5xx answer (unknown mailbox, refused sender) will not change by trying again. */
function isPermanentRefusal(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === "number" && code >= 500 && code < 600;
}

/**
 * Drains email_outbox. Jobs are claimed with FOR UPDATE SKIP LOCKED, so any number of workers
 * (threads of one process or other instances) share the queue without sending a job twice;
 * a claim is a lease, so a job whose worker died is taken over once the lease runs out.
 */
export function createEmailWorker(options: EmailWorkerOptions): EmailWorker {
  const settings: EmailWorkerSettings = {
    pollMs: options.pollMs ?? defaultEmailWorkerSettings.pollMs,
    batchSize: options.batchSize ?? defaultEmailWorkerSettings.batchSize,
    leaseMs: options.leaseMs ?? defaultEmailWorkerSettings.leaseMs,
    backoffBaseMs: options.backoffBaseMs ?? defaultEmailWorkerSettings.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs ?? defaultEmailWorkerSettings.backoffMaxMs,
  };
  const { db, transport, log } = options;
  const clock = options.clock ?? (() => new Date());
  const random = options.random ?? Math.random;
  const o = schema.emailOutbox;
  const a = schema.emailAttempts;
  // A send must give up well before its lease ends, or a second worker could take the job over
  // while the first is still delivering it.
  const sendTimeoutMs = Math.max(1, Math.floor(settings.leaseMs / 2));

  /** Equal jitter: half the exponential delay fixed, half random, so retries spread out. */
  function retryDelayMs(attempts: number): number {
    const ceiling = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  /** Jobs whose lease ran out during their last allowed attempt: nobody will try them again. */
  async function buryAbandonedLastAttempts(now: Date): Promise<number> {
    return db.transaction(async (tx) => {
      const buried = await tx
        .update(o)
        .set({ status: "dead", lastError: ABANDONED, lockedUntil: null, leaseId: null })
        .where(and(eq(o.status, "sending"), lte(o.lockedUntil, now), gte(o.attempts, o.maxAttempts)))
        .returning({ id: o.id });
      if (buried.length > 0) {
        await tx
          .update(a)
          .set({ finishedAt: now, error: ABANDONED })
          .where(
            and(
              inArray(
                a.jobId,
                buried.map((job) => job.id),
              ),
              isNull(a.finishedAt),
            ),
          );
      }
      return buried.length;
    });
  }

  async function claim(now: Date): Promise<{ leaseId: string; jobs: ClaimedJob[] }> {
    const leaseId = randomUUID();
    const jobs = await db.transaction(async (tx) => {
      // Two statements in one transaction, not UPDATE … WHERE id IN (SELECT … LIMIT n): the
      // planner may run such a subquery more than once and claim more than n rows.
      const due = await tx
        .select({ id: o.id })
        .from(o)
        .where(
          and(
            lt(o.attempts, o.maxAttempts),
            options.webhooks ? undefined : eq(o.kind, "email"),
            or(
              and(eq(o.status, "pending"), lte(o.runAt, now)),
              and(eq(o.status, "sending"), lte(o.lockedUntil, now)),
            ),
          ),
        )
        .orderBy(asc(o.runAt), asc(o.id))
        .limit(settings.batchSize)
        .for("update", { skipLocked: true });
      if (due.length === 0) return [];
      const ids = due.map((job) => job.id);
      const claimed = await tx
        .update(o)
        .set({
          status: "sending",
          attempts: sql`${o.attempts} + 1`,
          lockedUntil: new Date(now.getTime() + settings.leaseMs),
          leaseId,
        })
        .where(inArray(o.id, ids))
        .returning({
          id: o.id,
          kind: o.kind,
          template: o.template,
          toAddress: o.toAddress,
          data: o.data,
          attempts: o.attempts,
          maxAttempts: o.maxAttempts,
        });
      // A job taken over from a dead worker still has that worker's attempt open.
      await tx
        .update(a)
        .set({ finishedAt: now, error: ABANDONED })
        .where(and(inArray(a.jobId, ids), isNull(a.finishedAt)));
      const attempts = await tx
        .insert(a)
        .values(claimed.map((job) => ({ jobId: job.id, attempt: job.attempts, startedAt: now })))
        .returning({ id: a.id, jobId: a.jobId });
      const attemptIds = new Map(attempts.map((row) => [row.jobId, row.id]));
      return claimed.map((job) => ({ ...job, attemptId: attemptIds.get(job.id) ?? "" }));
    });
    return { leaseId, jobs };
  }

  function render(job: ClaimedJob): RenderedEmail | { error: string } {
    const parsed = emailTemplateSchema.safeParse({ template: job.template, data: job.data });
    if (!parsed.success)
      return { error: `cannot render template "${job.template}": ${parsed.error.message}` };
    return renderEmail(parsed.data, { publicOrigin: options.publicOrigin });
  }

  async function deliver(job: ClaimedJob): Promise<Outcome> {
    if (job.kind === "webhook" && options.webhooks) {
      try {
        return await options.webhooks(job, AbortSignal.timeout(sendTimeoutMs));
      } catch (error) {
        return { ok: false, error: describeError(error), permanent: false };
      }
    }
    const rendered = render(job);
    // A job that cannot be rendered never will be: no point retrying it.
    if ("error" in rendered) return { ok: false, error: rendered.error.slice(0, 1000), permanent: true };
    try {
      await transport.send(
        { ...rendered, jobId: job.id, from: options.from, to: job.toAddress },
        { signal: AbortSignal.timeout(sendTimeoutMs) },
      );
      return { ok: true };
    } catch (error) {
      return { ok: false, error: describeError(error), permanent: isPermanentRefusal(error) };
    }
  }

  /** Records the attempt and the job's new state, unless another worker has taken the job over. */
  async function settle(job: ClaimedJob, leaseId: string, outcome: Outcome): Promise<keyof PassResult> {
    const now = clock();
    const dead = !outcome.ok && (outcome.permanent || job.attempts >= job.maxAttempts);
    const next = outcome.ok
      ? { status: "sent" as const, sentAt: now, lastError: null }
      : dead
        ? { status: "dead" as const, lastError: outcome.error }
        : {
            status: "pending" as const,
            lastError: outcome.error,
            runAt: new Date(now.getTime() + retryDelayMs(job.attempts)),
          };
    const kept = await db.transaction(async (tx) => {
      await tx
        .update(a)
        .set({ finishedAt: now, error: outcome.ok ? null : outcome.error })
        .where(eq(a.id, job.attemptId));
      return tx
        .update(o)
        .set({ ...next, lockedUntil: null, leaseId: null })
        .where(and(eq(o.id, job.id), eq(o.leaseId, leaseId)))
        .returning({ id: o.id });
    });
    if (kept.length === 0) {
      log.warn({ jobId: job.id }, "email job was taken over by another worker before this one reported");
    } else if (outcome.ok) {
      log.debug(
        { jobId: job.id, kind: job.kind, template: job.template, attempt: job.attempts },
        "email sent",
      );
    } else if (dead) {
      log.error(
        {
          jobId: job.id,
          kind: job.kind,
          template: job.template,
          attempt: job.attempts,
          error: outcome.error,
        },
        "email job is dead: no more attempts",
      );
    } else {
      log.warn(
        {
          jobId: job.id,
          kind: job.kind,
          template: job.template,
          attempt: job.attempts,
          error: outcome.error,
        },
        "email attempt failed; will retry",
      );
    }
    return outcome.ok ? "sent" : dead ? "dead" : "retried";
  }

  async function pass(): Promise<PassResult> {
    const now = clock();
    const result: PassResult = { claimed: 0, sent: 0, retried: 0, dead: 0 };
    result.dead += await buryAbandonedLastAttempts(now);
    const { leaseId, jobs } = await claim(now);
    result.claimed = jobs.length;
    // allSettled: the pass ends only when every job of the batch is done, even if one failed to
    // report (its lease brings it back).
    const outcomes = await Promise.allSettled(
      jobs.map(async (job) => settle(job, leaseId, await deliver(job))),
    );
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") throw outcome.reason;
      result[outcome.value]++;
    }
    return result;
  }

  // Passes of one worker run one after another; concurrency comes from several workers.
  let chain: Promise<unknown> = Promise.resolve();
  function runOnce(): Promise<PassResult> {
    const next = chain.then(pass);
    chain = next.catch(() => undefined);
    return next;
  }

  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  async function poll() {
    let failures = 0;
    while (running) {
      try {
        const result = await runOnce();
        failures = 0;
        // A full batch suggests more are due: go on at once.
        if (result.claimed < settings.batchSize) await pause(settings.pollMs);
      } catch (error) {
        failures++;
        log.warn({ err: error }, "email worker pass failed; retrying");
        await pause(Math.min(30_000, settings.pollMs * 2 ** Math.min(failures, 5)));
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = poll();
    },
    runOnce,
    async drain() {
      const total: PassResult = { claimed: 0, sent: 0, retried: 0, dead: 0 };
      for (let passes = 0; passes < MAX_DRAIN_PASSES; passes++) {
        const result = await runOnce();
        total.claimed += result.claimed;
        total.sent += result.sent;
        total.retried += result.retried;
        total.dead += result.dead;
        if (result.claimed === 0) break;
      }
      return total;
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      loop = null;
      await chain;
    },
  };
}
