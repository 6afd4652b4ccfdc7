import { inject } from "vitest";
import { runStartScript } from "./admin-create-process.ts";
import { freePort } from "./free-port.ts";
import { createFreshDatabase } from "./fresh-database.ts";
import { type ServerProcess, spawnServer } from "./server-process.ts";

/** `pnpm start` in production mode as a child process, on a fixed port so it can come back on it. */
export interface RestartableServer extends AsyncDisposable {
  url: string;
  databaseUrl: string;
  /** SIGTERM, and resolves once the process has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and database; resolves once it listens. */
  start(): Promise<void>;
  /** Makes (or promotes) an admin through the server's own `admin:create` script. */
  createAdmin(account: { email: string; password: string; displayName: string }): Promise<void>;
  /** Everything the current process logged. */
  output(): string;
  close(): Promise<void>;
}

const GENEROUS = "100000/1";

/**
 * A production-mode server (Secure cookies, the built web app served, migrations at start)
 * over a database of its own on the test PostgreSQL. Rate limits are raised: the tests sign
 * many people up from one address.
 */
export async function startRestartableServer(env: Record<string, string> = {}): Promise<RestartableServer> {
  const database = await createFreshDatabase(inject("databaseUrl"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fullEnv = {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_ORIGIN: url,
    DATABASE_URL: database.url,
    SEND_RATE_LIMIT: GENEROUS,
    AUTH_RATE_LIMIT: GENEROUS,
    FORMS_RATE_LIMIT: GENEROUS,
    EMAIL_RATE_LIMIT: GENEROUS,
    PASSWORD_RATE_LIMIT: GENEROUS,
    WRITE_RATE_LIMIT: GENEROUS,
    TYPING_RATE_LIMIT: GENEROUS,
    EMAIL_WORKER_POLL_MS: "100",
    ...env,
  };
  let current: ServerProcess | null = null;
  const start = async () => {
    if (current) return;
    // The bundle, as `pnpm start` runs it: about 2.5 s less CPU per start than src/main.ts under
    // tsx (on PGlite 2.3-2.7 s against 4.8-5.3), which loads each source file, and for each of
    // drizzle-orm's files Node 22 parses that package's 179 KB package.json anew. The web and
    // restart suites start dozens; CI is CPU-bound.
    current = await spawnServer(fullEnv, { bundle: true });
  };
  const stop = async () => {
    const running = current;
    current = null;
    await running?.stop();
  };
  try {
    await start();
  } catch (error) {
    await database.drop();
    throw error;
  }
  const close = async () => {
    await stop();
    await database.drop();
  };
  return {
    url,
    databaseUrl: database.url,
    start,
    stop,
    output: () => current?.output() ?? "",
    createAdmin: (account) =>
      runAdminCreate(
        database.url,
        ["--email", account.email, "--name", account.displayName],
        account.password,
      ),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `pnpm admin:create` of apps/server, the password on standard input as an operator would pipe it. */
async function runAdminCreate(databaseUrl: string, args: string[], password: string): Promise<void> {
  const { code, out } = await runStartScript(["admin-create", ...args], `${password}\n`, {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: "warn",
  });
  if (code !== 0) throw new Error(`admin:create exited with ${code}:\n${out}`);
}
