import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CliError, ExitCode } from "../cli-error.ts";
import { defineCommand } from "../command.ts";

// The server's own operator script, as `pnpm admin:create` runs it: it opens the database as the
// server does (DATABASE_URL, or PGlite in DATA_DIR), migrates, and creates or promotes the
// account. One implementation, run from the server's bundle (start.mjs builds it when missing
// or stale), so the CLI needs no TypeScript loader. The path is relative to the CLI's bundle
// in apps/cli/dist, the only place this module runs from.
const START_SCRIPT = fileURLToPath(new URL("../../server/start.mjs", import.meta.url));

export const adminCreate = defineCommand({
  details: [
    "For the first admin, when nobody can call users set-role yet. Talks to the database, not",
    "to the server's API: it reads DATABASE_URL (PostgreSQL) or DATA_DIR (the embedded",
    "database, reached through the running server's socket in that directory, or opened",
    "directly when no server runs) from the environment, like the server, and ignores --url.",
    "An existing account is promoted; a new one asks for a password on standard input (typed",
    "without echo, or piped).",
  ].join("\n"),
  options: {
    email: { type: "string", description: "the admin's email", valueName: "ADDRESS" },
    name: {
      type: "string",
      description: "display name of a new account (default: the email's local part)",
      valueName: "NAME",
    },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx, values) {
    if (!values.email)
      throw new CliError("--email is required (see parley admin create --help)", ExitCode.usage);
    if (!existsSync(START_SCRIPT)) {
      throw new CliError(`admin create needs the server beside the CLI (${START_SCRIPT} is missing)`);
    }
    const args = [START_SCRIPT, "admin-create", "--email", values.email];
    if (values.name) args.push("--name", values.name);
    // In the caller's directory, like `pnpm start`: a relative DATA_DIR means the same place.
    const child = spawn(process.execPath, args, {
      env: { ...ctx.io.env },
      stdio: [ctx.io.stdin, "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk: Buffer) => ctx.io.stdout.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => ctx.io.stderr.write(chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", resolve);
    });
    // The script already said why, in one line: nothing to add to it.
    if (code !== 0) throw new CliError("");
  },
});
