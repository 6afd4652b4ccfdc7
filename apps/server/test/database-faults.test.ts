import { mkdirSync, writeFileSync } from "node:fs";
import { createParleyClient } from "@parley/client";
import { signUpAt } from "@parley/testing/accounts";
import {
  type ChatLoad,
  type DeliveryFigures,
  type SendRecord,
  startChatLoad,
} from "@parley/testing/chat-load";
import { collectRoomEvents } from "@parley/testing/event-collector";
import { type PgCluster, startPgCluster } from "@parley/testing/pg-cluster";
import { type ServerProcess, spawnServer } from "@parley/testing/server-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

const SEND_TIMEOUT_MS = 10_000;
const GENEROUS = "100000/1";

// Its own cluster, stopped and killed here. synchronous_commit stays on: with it off (the shared
// test cluster's speed setting) a crash may lose commits PostgreSQL already acknowledged, which
// no application can prevent.
let cluster: PgCluster;
let server: ServerProcess;
beforeAll(async () => {
  cluster = await startPgCluster({ synchronousCommit: true });
  server = await spawnServer({
    DATABASE_URL: cluster.url,
    SEND_RATE_LIMIT: GENEROUS,
    AUTH_RATE_LIMIT: GENEROUS,
    // The 200 subscribers share one reader account, one socket each: above the per-user cap.
    WS_CONNECTIONS_PER_USER: "1000",
  });
});
afterAll(async () => {
  // For the post-mortem of a failed run: what the server said, crash included.
  mkdirSync("test-output", { recursive: true });
  writeFileSync("test-output/database-faults-server.log", server?.output() ?? "");
  await server?.stop();
  await cluster?.destroy();
});

/** /readyz polled until stopped: each answer with when it was asked and when it came. */
function pollReadiness(url: string) {
  const answers: { askedAt: number; at: number; status: number }[] = [];
  const listeners = new Set<() => void>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const askedAt = Date.now();
      const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
        (response) => response.status,
        () => 0,
      );
      answers.push({ askedAt, at: Date.now(), status });
      for (const listener of [...listeners]) listener();
      // A probe's pace, as a load balancer's health check would poll.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    answers,
    /** Answers to requests made entirely within [from, to]. */
    between: (from: number, to: number) => answers.filter((a) => a.askedAt >= from && a.at <= to),
    /** Resolves once an answer to a request made after `from` has `status`. */
    answered: (status: number, from: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (answers.some((a) => a.askedAt >= from && a.status === status)) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
      }),
    async stop() {
      running = false;
      await loop;
    },
  };
}

type Readiness = ReturnType<typeof pollReadiness>;

function record(name: string, figures: DeliveryFigures & Record<string, unknown>) {
  console.log(`[${name}] ${JSON.stringify(figures)}`);
  mkdirSync("test-output", { recursive: true });
  writeFileSync(`test-output/${name}.json`, `${JSON.stringify(figures, null, 2)}\n`);
}

function longestSend(sends: SendRecord[]) {
  return Math.max(0, ...sends.map((send) => send.endedAt - send.startedAt));
}

/** What every outage must leave behind: no crash, clean failures, every committed message once, in order. */
async function expectCleanRecovery(load: ChatLoad, figures: DeliveryFigures) {
  expect(server.child.exitCode, server.output().slice(-4000)).toBeNull();
  expect(Object.keys(figures.failed).filter((code) => code !== "SERVICE_UNAVAILABLE")).toEqual([]);
  for (const send of load.sends.filter((s) => s.outcome !== "ok")) expect(send.httpStatus).toBe(503);
  expect(longestSend(load.sends)).toBeLessThan(SEND_TIMEOUT_MS);
  expect(await load.ackedMissingFromHistory()).toEqual([]);
  expect(figures).toMatchObject({ lost: 0, doubled: 0, outOfOrder: 0, failedStreams: 0 });
  expect(figures.receivedPerSubscriber).toEqual({ min: figures.committed, max: figures.committed });
  // A 500 logs "procedure failed"; a crash or a failed start logs at fatal (60).
  expect(server.output()).not.toMatch(/"msg":"procedure failed"|"level":60/);
}

/**
 * Runs the load, takes PostgreSQL away with `outage` (which resolves, with the time the database
 * was down from, once it is to come back), brings it back, and checks what the issue asks of the
 * server; records the figures as `name`.
 */
async function outageUnderLoad(
  name: string,
  outage: (load: ChatLoad, readiness: Readiness) => Promise<{ downAt: number }>,
) {
  const load = await startChatLoad({
    url: server.url,
    senders: 20,
    subscribers: 200,
    paceMs: 200,
    sendTimeoutMs: SEND_TIMEOUT_MS,
  });
  const readiness = pollReadiness(server.url);
  try {
    await load.until((sends) => sends.filter((s) => s.outcome === "ok").length >= 100);
    const { downAt } = await outage(load, readiness);
    const restartingAt = Date.now();
    await cluster.start();
    const startedAt = Date.now();
    await load.until(
      (sends) => sends.filter((s) => s.outcome === "ok" && s.startedAt > startedAt).length >= 100,
    );
    await readiness.answered(200, startedAt);
    await load.stopSending();
    await readiness.stop();

    const duringOutage = readiness.between(downAt, restartingAt);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(duringOutage.filter((a) => a.status !== 503)).toEqual([]);
    expect(readiness.answers.at(-1)?.status).toBe(200);
    const during = (s: SendRecord) => s.startedAt >= downAt && s.endedAt <= restartingAt;
    expect(load.sends.filter((s) => during(s) && s.outcome !== "ok").length).toBeGreaterThanOrEqual(20);
    expect(load.sends.filter((s) => during(s) && s.outcome === "ok")).toEqual([]);

    const figures = await load.settle(20_000);
    const readyAgainAt = readiness.answers.find((a) => a.askedAt >= startedAt && a.status === 200)?.at;
    record(name, {
      ...figures,
      outageMs: startedAt - downAt,
      readyAgainMs: readyAgainAt === undefined ? null : readyAgainAt - startedAt,
      longestSendMs: longestSend(load.sends),
    });
    await expectCleanRecovery(load, figures);
  } finally {
    await readiness.stop();
    load.close();
  }
}

describe("PostgreSQL going away under 20 senders and 200 subscribers", () => {
  it("stopped for 5 s: sends fail with 503 meanwhile, /readyz says so, and every subscriber ends with every committed message once, in order (resuming from its last event if the server ended its stream with 503)", async () => {
    await outageUnderLoad("postgres-stopped-5s", async () => {
      await cluster.stop();
      const downAt = Date.now();
      // The outage the issue asks for: a fixed 5 s, not an event to wait for.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      return { downAt };
    });
  });

  it("killed with SIGKILL and restarted (crash recovery): the same, and no acknowledged message is lost", async () => {
    await outageUnderLoad("postgres-sigkill", async (load, readiness) => {
      await cluster.kill();
      const downAt = Date.now();
      await load.until(
        (sends) => sends.filter((s) => s.outcome !== "ok" && s.startedAt > downAt).length >= 20,
      );
      await readiness.answered(503, downAt);
      return { downAt };
    });
  });
});

describe("a socket opened while PostgreSQL is down", () => {
  // Three outages in a row: the server refuses each socket's session check within milliseconds of
  // its connection params, and a subscription asked for in that window used to fail with "Active
  // connection is not open" (the client found the socket closing and no reconnect under way). It
  // failed in the second round of every local run before the client patch's fix (issue 16's note).
  it("its subscription starts once PostgreSQL is back, three outages in a row, with no error on the way: the server refuses each socket's session check and closes it, and the client opens another", async () => {
    const { token } = await signUpAt(server.url, "Late reader");
    const owner = createParleyClient({ url: server.url, token });
    for (let round = 0; round < 3; round++) {
      const room = await owner.chat.rooms.create.mutate({ name: `Late ${round}`, isPrivate: false });
      let closes = 0;
      const closed: (() => void)[] = [];
      const api = createParleyClient({
        url: server.url,
        token,
        WebSocket,
        onSocketClose: () => {
          closes++;
          for (const listener of closed.splice(0)) listener();
        },
      });
      await cluster.stop();
      const stream = collectRoomEvents(api, room.id, undefined, { resumeWhenUnavailable: true });
      try {
        // Two sockets refused: the first, and the one the client opened after it. A failed
        // subscription ends the wait too, so that it fails here with its error.
        const failed = stream.until(() => stream.error() !== undefined);
        while (closes < 2 && !stream.error()) {
          await Promise.race([new Promise<void>((resolve) => closed.push(resolve)), failed]);
        }
        expect(stream.error()).toBeUndefined();
        await cluster.start();
        await stream.started();
        expect(stream.error()).toBeUndefined();
        const sent = await owner.chat.messages.send.mutate({
          roomId: room.id,
          content: `after outage ${round}`,
          clientMessageId: `late-reader-${round}`,
        });
        await stream.until(() =>
          stream.items.some((e) => e.type === "message.created" && e.seq === sent.seq),
        );
        expect(stream.error()).toBeUndefined();
      } finally {
        stream.unsubscribe();
        // Does nothing when it is running: a failure above must not leave it stopped for afterAll.
        await cluster.start();
      }
    }
  });
});
