import { RawSocketClient } from "../clients/raw-socket.ts";
import type { BenchContext } from "../context.ts";
import { indexScans, tokenOf } from "../database.ts";
import { Deliveries, openSubscriptions, type Route, sendOpenLoop, sleep } from "../load.ts";
import type { Marker } from "../marker.ts";
import { readMarker } from "../marker.ts";
import { type ServerProcess, spawnServer } from "../server-process.ts";
import { median, round } from "../stats.ts";
import type { Target } from "../targets.ts";

export interface StormResult {
  subscribers: number;
  realClients: number;
  rate: number;
  /** SIGKILL to the new process listening again. */
  restartMs: number;
  /** From the kill until every (raw-protocol) subscriber had its subscription back. */
  allResumedAfterKillMs: number;
  /** The same, from the moment the new process was ready. */
  allResumedAfterReadyMs: number;
  medianResumedAfterReadyMs: number;
  resumed: number;
  /** Scans of the replay table from the kill to the end (each catch-up query is at least one). */
  catchUpQueries: number;
  stored: number;
  lost: number;
  duplicated: number;
  subscribersWithLoss: number;
  sendErrors: number;
  /** Subscription errors the server sent during the storm (each followed by a retry), and a sample. */
  subscriptionErrors: number;
  errorSample: string[];
  /** Lost messages with a later one delivered: real holes in a subscriber's stream. */
  holes: number;
  /** Lost messages after the last one a subscriber got: it had not caught up by the end. */
  behind: number;
  subscribersWithHoles: number;
}

const CAP = 16_384;

/**
 * Workload 6: N subscribers in one room at a steady rate; the server is SIGKILLed and started
 * again on the same port. Every subscriber reconnects with the jittered backoff of
 * @parley/client and asks for what it missed. What was stored is read back from the database
 * and compared, subscriber by subscriber, with what arrived: nothing may be lost or repeated.
 */
export async function runReconnectStorm(ctx: BenchContext, target: Target): Promise<StormResult> {
  const { sizes, layout } = ctx;
  let server: ServerProcess = await spawnServer(
    target.kind,
    { port: 0, databaseUrl: ctx.db.url },
    { node: ctx.node },
  );
  const port = server.port;
  const deliveries = new Deliveries(ctx.newRun());
  const n = sizes.stormSubscribers;
  const real = target.hasClientLibrary ? sizes.realClients : 0;
  const counts: Uint8Array[] = Array.from({ length: n }, () => new Uint8Array(CAP));
  let received = 0;
  const subs = await openSubscriptions(n, 200, (i) =>
    target.subscribe(
      {
        url: server.url,
        token: tokenOf(i),
        roomId: layout.stormRoom,
        resume: true,
        onMessage: (marker: Marker) => {
          received++;
          if (marker.run === deliveries.run && marker.index < CAP) {
            const c = counts[i];
            if (c) c[marker.index] = Math.min(255, (c[marker.index] ?? 0) + 1);
          }
        },
      },
      i >= n - real,
    ),
  );
  const raw = subs.slice(0, n - real);
  const routes: Route[] = [0, 1].map((s) => ({
    sender: target.createSender(server.url, tokenOf(layout.senderBase + s)),
    roomId: layout.stormRoom,
  }));
  await Promise.all(routes.map((r) => r.sender.ready));

  RawSocketClient.errorSamples.length = 0;
  const errorsBefore = subs.reduce((sum, s) => sum + s.errors, 0);
  const phase = deliveries.startPhase(n);
  const replies: Promise<void>[] = [];
  const send = async (ms: number) => {
    const { settled } = await sendOpenLoop(deliveries, phase, routes, sizes.stormRate, ms);
    replies.push(settled);
  };
  const scansBefore = await indexScans(ctx.db, target.replayTable.table, target.replayTable.schema);
  await send(sizes.stormBeforeKillMs);

  const killAt = performance.now();
  await server.kill();
  const restarting = spawnServer(target.kind, { port, databaseUrl: ctx.db.url }, { node: ctx.node });
  let readyAt = Number.NaN;
  void restarting.then(
    (s) => {
      readyAt = performance.now();
      server = s;
    },
    () => {},
  );
  const resumedAll = () => raw.every((s) => s.starts >= 2);
  const deadline = killAt + 20_000;
  while (!resumedAll() && performance.now() < deadline) await send(500);
  await send(sizes.stormAfterResumeMs);
  server = await restarting;
  await Promise.race([Promise.all(replies), sleep(5_000)]);
  // Until deliveries stop (a server that fell behind is still sending its backlog), at most 8 s:
  // a second with nothing received. At 20 msgs/s to 1,000 subscribers a server still sending
  // delivers thousands a second; 1.5 s windows only made every repeat wait longer.
  const quietUntil = performance.now() + 8_000;
  for (let last = -1; received !== last && performance.now() < quietUntil; ) {
    last = received;
    await sleep(1_000);
  }

  for (const sub of subs) sub.close();
  for (const route of routes) route.sender.close();
  // Stopping closes the pool: its backends exit and flush their statistics.
  await server.stop();
  await sleep(300);
  const scansAfter = await indexScans(ctx.db, target.replayTable.table, target.replayTable.schema);

  const { rows } = await ctx.db.pool.query<{ content: string }>(
    `select content from ${target.messagesTable} where room_id = $1 and content like $2 order by ${target.orderColumn}`,
    [layout.stormRoom, `~b${deliveries.run}.%`],
  );
  // In the order subscribers receive them: a message missing before the last one a subscriber
  // got is a hole (lost); missing after it, the subscriber had not caught up when we stopped.
  const stored = rows.map((r) => readMarker(r.content)?.index ?? -1).filter((i) => i >= 0 && i < CAP);
  let holes = 0;
  let behind = 0;
  let duplicated = 0;
  let subscribersWithLoss = 0;
  let subscribersWithHoles = 0;
  for (const c of counts) {
    let last = -1;
    stored.forEach((index, position) => {
      if ((c[index] ?? 0) > 0) last = position;
    });
    let mine = 0;
    let myHoles = 0;
    stored.forEach((index, position) => {
      if ((c[index] ?? 0) > 0) return;
      mine++;
      if (position < last) myHoles++;
    });
    for (const value of c) if (value > 1) duplicated += value - 1;
    holes += myHoles;
    behind += mine - myHoles;
    if (mine > 0) subscribersWithLoss++;
    if (myHoles > 0) subscribersWithHoles++;
  }
  const lost = holes + behind;
  // Every raw subscriber's latest (re)start, if all of them came back by the end.
  const allResumedAt = resumedAll() ? Math.max(...raw.map((s) => s.lastStartAt)) : Number.NaN;
  const resumeTimes = raw.filter((s) => s.starts >= 2).map((s) => s.lastStartAt - readyAt);
  const result: StormResult = {
    subscribers: n,
    realClients: real,
    rate: sizes.stormRate,
    restartMs: round(readyAt - killAt, 0),
    allResumedAfterKillMs: round(allResumedAt - killAt, 0),
    allResumedAfterReadyMs: round(allResumedAt - readyAt, 0),
    medianResumedAfterReadyMs: round(median(resumeTimes), 0),
    resumed: raw.filter((s) => s.starts >= 2).length,
    catchUpQueries: scansAfter - scansBefore,
    stored: stored.length,
    lost,
    duplicated,
    subscribersWithLoss,
    sendErrors: phase.sendErrors,
    subscriptionErrors: subs.reduce((sum, s) => sum + s.errors, 0) - errorsBefore,
    errorSample: RawSocketClient.errorSamples.slice(0, 3),
    holes,
    behind,
    subscribersWithHoles,
  };
  ctx.log(
    `  ${target.label} storm: restart ${result.restartMs} ms, all ${result.resumed}/${raw.length} resumed ${result.allResumedAfterKillMs} ms after the kill (${result.allResumedAfterReadyMs} after ready), ${result.catchUpQueries} catch-up queries, ${result.stored} stored, ${lost} lost (${holes} holes, ${behind} not caught up), ${duplicated} duplicated, ${result.subscriptionErrors} subscription errors${result.errorSample[0] ? ` (e.g. ${result.errorSample[0].slice(0, 160)})` : ""}`,
  );
  return result;
}
