import { startParleyServer } from "@parley/server";
import { pino } from "pino";
import { readConfig, serveBench } from "./ipc.ts";

// The real server, as main.ts builds it, with the rate limits out of the way (the bench sends
// thousands of messages per user) and the email worker off (it only polls an empty outbox).
const config = readConfig();
const unlimited = { points: 1e9, durationSeconds: 1 };
const server = await startParleyServer({
  port: config.port,
  host: "127.0.0.1",
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  redisUrl: config.redisUrl,
  logger: pino({ level: "warn" }),
  rateLimits: {
    send: unlimited,
    auth: unlimited,
    forms: unlimited,
    email: unlimited,
    password: unlimited,
    write: unlimited,
    typing: unlimited,
  },
  // The bench signs many users up at once from one address.
  limits: { subscriptionsPerConnection: 10, hashesPerKey: 1e9 },
  emailWorker: { enabled: false },
  // The pool's warm-up (packages/db/src/pool-warmup.ts) at the listen, and ready once it is done:
  // the workloads measure a settled server. With main.ts's one-second delay it ran inside the first
  // fan-out step of run E (2026-12-02): 10 new PostgreSQL backends on the generator's core, a p99
  // of 105.6 ms at 100 msgs/s that ended that repeat's ladder. Cold start (workload 5) runs
  // start.mjs itself, with main.ts's delay.
  poolWarmupDelayMs: 0,
});
await server.poolWarmed;
serveBench(server.port, () => server.close());
