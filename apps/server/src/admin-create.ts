import { once } from "node:events";
import { parseArgs } from "node:util";
import { createAdmin, createPasswordHasher, promoteToAdmin, publishUsersChanged } from "@parley/core";
import { createRedisBus } from "@parley/core/redis-bus";
import { registerInput } from "@parley/core/schemas";
import { pino } from "pino";
import { builtPgliteTemplate } from "./build-outputs.ts";
import { loadConfigOrExit } from "./config.ts";
import { openDatabase } from "./open-database.ts";

// `pnpm --filter @parley/server admin:create --email ada@example.com --name "Ada Lovelace"`
// (or `pnpm admin:create …` from the root): makes that account an admin, creating it when it
// does not exist. The password of a new account is read from standard input (typed without
// echo, or piped), never from the command line, where `ps` and shell history would show it.
const USAGE =
  'usage: admin:create --email <address> [--name "<display name>"]   (password on standard input)';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** A line from stdin: hidden while typed on a terminal, read whole when piped. */
async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = "";
    for await (const chunk of stdin) text += String(chunk);
    return text.replace(/\r?\n$/, "");
  }
  process.stderr.write("Password for the new admin (10+ characters): ");
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  return new Promise((resolve) => {
    let typed = "";
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === "\r" || character === "\n") {
          stdin.setRawMode(false);
          stdin.off("data", onData);
          stdin.pause();
          process.stderr.write("\n");
          resolve(typed);
          return;
        }
        if (character === "\u0003") fail("\ncancelled");
        typed = character === "\u007f" ? typed.slice(0, -1) : typed + character;
      }
    };
    stdin.on("data", onData);
  });
}

async function main() {
  const config = loadConfigOrExit(process.env);
  const { values } = parseArgs({
    options: { email: { type: "string" }, name: { type: "string" }, help: { type: "boolean" } },
    allowPositionals: false,
  });
  if (values.help || !values.email) fail(USAGE);
  const email = values.email.trim().toLowerCase();

  // While the server runs, through the socket it shares its data directory on.
  const db = await openDatabase(config, { role: "beside a server", pgliteTemplate: builtPgliteTemplate });
  let problem: string | null = null;
  let promotedId: string | null = null;
  try {
    const clock = () => new Date();
    const promoted = await promoteToAdmin({ db: db.db, clock }, email);
    promotedId = promoted;
    if (promoted) {
      process.stdout.write(`${email} is now an admin (existing account ${promoted})\n`);
    } else {
      const parsed = registerInput.safeParse({
        email,
        displayName: values.name ?? email.split("@")[0],
        password: await readPassword(),
      });
      if (parsed.success) {
        const passwords = createPasswordHasher({ concurrency: 1, maxQueue: 1 });
        const id = await createAdmin({ db: db.db, passwords, clock }, parsed.data);
        promotedId = id;
        process.stdout.write(`created admin ${parsed.data.email} (${id})\n`);
      } else {
        problem = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
      }
    }
  } finally {
    // Closed before exiting: PGlite's data directory stays locked until then.
    await db.close();
  }
  if (problem) fail(problem);
  if (promotedId && config.redisUrl) await announcePromotion(config.redisUrl, promotedId, config.logLevel);
}

/**
 * Servers sharing Redis close the promoted user's open sockets, which reconnect as admin. With
 * no Redis the servers' bus is in their own process: the user's next connection is admin.
 */
async function announcePromotion(redisUrl: string, userId: string, logLevel: string) {
  const bus = createRedisBus(redisUrl, pino({ level: logLevel }));
  try {
    if (bus.redis.status !== "ready") await once(bus.redis, "ready", { signal: AbortSignal.timeout(10_000) });
    await publishUsersChanged(bus, [userId]);
  } catch {
    process.stderr.write("Redis did not answer: the user's open connections get admin when they reconnect\n");
  } finally {
    await bus.close();
  }
}

// Whatever goes wrong is one line: an uncaught error would print the line of the minified bundle
// it was thrown from (the whole file) and a stack.
main().catch((error: unknown) => {
  fail(`admin:create: ${error instanceof Error ? error.message : String(error)}`);
});
