import { builtPgliteTemplate, builtWebApp } from "./build-outputs.ts";
import { loadConfigOrExit } from "./config.ts";
import { closeOnSignals, exitOnStartFailure } from "./entry-lifecycle.ts";
import { createLogger } from "./logger.ts";
import { openDatabase } from "./open-database.ts";

// The entry points (this, worker-main.ts, admin-create.ts) are the only places that read process.env.
const config = loadConfigOrExit(process.env);

// A function, not top-level await: the bundle is CommonJS, which V8 can cache on Node 20 (see
// apps/server/cached-bundle.mjs). `started` settles once the server listens (or the start failed).
async function main(): Promise<void> {
  const log = await createLogger(config, process.stdout.isTTY === true);
  // `pnpm dev` (tsx watch src/main.ts --dev): the web app from Vite on this server, reloading on change.
  const dev = process.argv.includes("--dev");

  try {
    if (process.argv.includes("--migrate-only")) {
      // `pnpm db:migrate`: the database alone (through a running server's socket on PGlite), no listener.
      const db = await openDatabase(config, { role: "beside a server", pgliteTemplate: builtPgliteTemplate });
      await db.close();
      log.info("migrations applied");
      process.exit(0);
    }
    // Opened before the server's modules are loaded: on a new PostgreSQL database the migrations
    // (about 100 ms of PostgreSQL's time) run while Node compiles Express, tRPC and the routers.
    // The import waits until PostgreSQL has the script: compiling blocks this thread, and the
    // replies that lead up to the script (connect, the checks, the lock) would wait behind it,
    // leaving the script to run after the import instead of beside it.
    let migrating = () => {};
    const scriptSent = new Promise<void>((resolve) => {
      migrating = resolve;
    });
    const database = openDatabase(config, {
      role: "server",
      log,
      pgliteTemplate: builtPgliteTemplate,
      onMigrating: () => migrating(),
    });
    // Not left unhandled while the import below is awaited; startParleyServer awaits it again.
    const settled = database.catch(() => {});
    await Promise.race([scriptSent, settled]);
    const { startParleyServer } = await import("./parley-server.ts");
    const server = await startParleyServer({
      ...config,
      database,
      // In every mode: start.mjs builds it when missing or stale (`pnpm dev` serves it through Vite).
      webDistDir: config.webDistDir ?? builtWebApp,
      webDev: dev
        ? (httpServer) => import("./dev-web.ts").then((m) => m.startWebDevServer(httpServer))
        : undefined,
      pgliteTemplate: builtPgliteTemplate,
      logger: log,
    });
    const pglite = server.db.kind === "pglite";
    log.info(
      { url: server.url, database: server.db.kind, dataDir: pglite ? config.dataDir : undefined },
      "Parley is listening",
    );
    log.info(`Open ${config.publicOrigin}/ in a browser`);
    closeOnSignals(log, () => server.close());
  } catch (error) {
    exitOnStartFailure(log, error, "failed to start");
  }
}

export const started = main();
