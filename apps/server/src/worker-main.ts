import { fileURLToPath } from "node:url";
import { createDb, DataDirLockedError, migrate } from "@parley/db";
import { loadConfigOrExit } from "./config.ts";
import { startEmailDelivery } from "./email-delivery.ts";
import { createLogger } from "./logger.ts";

// `pnpm worker`: the email worker alone, for running it apart from the servers (set
// EMAIL_WORKER=off on those). Any number may run against one PostgreSQL: jobs are claimed with
// SKIP LOCKED. With embedded PGlite, a worker started while the server runs reaches the database
// through the socket the server shares its data directory on.
const config = loadConfigOrExit(process.env);
const log = createLogger(config, process.stdout.isTTY === true);

try {
  const db = await createDb({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    // Made by the build (build.mjs): a new data directory starts as a copy of it.
    pgliteTemplate: fileURLToPath(new URL("../dist/pglite-template", import.meta.url)),
    joinRunningServer: true,
    onPoolError: (error) => log.warn({ err: error }, "database connection lost; the pool will reconnect"),
  });
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  const delivery = startEmailDelivery({
    db: db.db,
    log,
    publicOrigin: config.publicOrigin,
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom, teamAddress: config.teamEmail },
    worker: config.emailWorker,
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "email worker shutting down");
    await delivery.close();
    await db.close();
    log.info("email worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
} catch (error) {
  // An expected refusal is its message alone: a stack would only bury what to do.
  if (error instanceof DataDirLockedError) log.fatal(error.message);
  else log.fatal({ err: error }, error instanceof Error ? error.message : "the email worker failed to start");
  process.exit(1);
}
