import { pino } from "pino";
import { loadConfig } from "./config.ts";
import { startParleyServer } from "./parley-server.ts";

// The only place that reads process.env.
const config = loadConfig(process.env);
const log = pino({ level: config.logLevel });

if (config.redisUrl)
  log.warn("REDIS_URL is set but Redis support is not built yet: using the in-process bus");
if (config.smtpUrl) log.warn("SMTP_URL is set but the mail worker is not built yet: emails stay queued");

try {
  const server = await startParleyServer({
    port: config.port,
    host: config.host,
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    publicOrigin: config.publicOrigin,
    allowedOrigins: config.allowedOrigins,
    production: config.production,
    logger: log,
  });
  if (process.argv.includes("--migrate-only")) {
    await server.close();
    log.info("migrations applied");
  } else {
    log.info(
      {
        url: server.url,
        database: server.db.kind,
        dataDir: server.db.kind === "pglite" ? config.dataDir : undefined,
      },
      "Parley is listening",
    );
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
  }
} catch (error) {
  log.fatal({ err: error }, error instanceof Error ? error.message : "failed to start");
  process.exit(1);
}
