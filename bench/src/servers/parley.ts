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
});
serveBench(server.port, () => server.close());
