import { fileURLToPath } from "node:url";
import { createDb, DataDirLockedError, migrate } from "@parley/db";
import { loadConfigOrExit } from "./config.ts";
import { createLogger } from "./logger.ts";
import { startParleyServer } from "./parley-server.ts";

// The entry points (this, worker-main.ts, admin-create.ts) are the only places that read process.env.
const config = loadConfigOrExit(process.env);
const log = createLogger(config, process.stdout.isTTY === true);
const migrateOnly = process.argv.includes("--migrate-only");
// `pnpm dev` (tsx watch src/main.ts --dev): the web app from Vite on this server, reloading on change.
const dev = process.argv.includes("--dev");
// Made by the build (build.mjs); src/ and dist/ are siblings, so this holds from either.
const pgliteTemplate = fileURLToPath(new URL("../dist/pglite-template", import.meta.url));

/** `pnpm db:migrate`: the database alone (through a running server's socket on PGlite), no listener. */
async function migrateOnlyAndExit() {
  const db = await createDb({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    pgliteTemplate,
    joinRunningServer: true,
  });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  log.info("migrations applied");
}

try {
  if (migrateOnly) {
    await migrateOnlyAndExit();
    process.exit(0);
  }
  const server = await startParleyServer({
    port: config.port,
    host: config.host,
    databaseUrl: config.databaseUrl,
    redisUrl: config.redisUrl,
    rateLimits: config.rateLimits,
    limits: config.limits,
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom, teamAddress: config.teamEmail },
    emailWorker: config.emailWorker,
    dataDir: config.dataDir,
    pgliteTemplate,
    publicOrigin: config.publicOrigin,
    allowedOrigins: config.allowedOrigins,
    production: config.production,
    // In every mode: start.mjs builds it when missing or stale (`pnpm dev` serves it through Vite).
    webDistDir: config.webDistDir ?? fileURLToPath(new URL("../../web/dist", import.meta.url)),
    webDev:
      dev && !migrateOnly
        ? (httpServer) => import("./dev-web.ts").then((m) => m.startWebDevServer(httpServer))
        : undefined,
    logger: log,
    metricsToken: config.metricsToken,
  });
  log.info(
    {
      url: server.url,
      database: server.db.kind,
      dataDir: server.db.kind === "pglite" ? config.dataDir : undefined,
    },
    "Parley is listening",
  );
  log.info(`Open ${config.publicOrigin}/ in a browser`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    await server.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
} catch (error) {
  // An expected refusal is its message alone: a stack would only bury what to do.
  if (error instanceof DataDirLockedError) log.fatal(error.message);
  else log.fatal({ err: error }, error instanceof Error ? error.message : "failed to start");
  process.exit(1);
}
