import { builtPgliteTemplate } from "./build-outputs.ts";
import { loadConfigOrExit } from "./config.ts";
import { startEmailDelivery } from "./email-delivery.ts";
import { closeOnSignals, exitOnStartFailure } from "./entry-lifecycle.ts";
import { createLogger } from "./logger.ts";
import { openDatabase } from "./open-database.ts";

// `pnpm worker`: the email worker alone, for running it apart from the servers (set
// EMAIL_WORKER=off on those). Any number may run against one PostgreSQL: jobs are claimed with
// SKIP LOCKED. With embedded PGlite, a worker started while the server runs reaches the database
// through the socket the server shares its data directory on.
const config = loadConfigOrExit(process.env);
const log = await createLogger(config, process.stdout.isTTY === true);

try {
  const db = await openDatabase(config, {
    role: "beside a server",
    log,
    pgliteTemplate: builtPgliteTemplate,
  });
  const delivery = startEmailDelivery({ db: db.db, log, config });
  closeOnSignals(
    log,
    async () => {
      await delivery.close();
      await db.close();
    },
    "email worker",
  );
} catch (error) {
  exitOnStartFailure(log, error, "the email worker failed to start");
}
