import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CliError, ExitCode } from "../cli-error.ts";
import { defineCommand } from "../command.ts";

// The server's own operator script: it opens the database as the server does (DATABASE_URL,
// or PGlite in DATA_DIR), migrates, and creates or promotes the account. One implementation,
// run here from the same checkout.
const ADMIN_CREATE = fileURLToPath(new URL("../../../server/src/admin-create.ts", import.meta.url));
// tsx as this package resolves it: `--import tsx` would look for it in the caller's directory.
const TSX = import.meta.resolve("tsx");

export const adminCreate = defineCommand({
  name: "admin create",
  summary: "create or promote an admin, in the database itself (operators)",
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
    if (!existsSync(ADMIN_CREATE)) {
      throw new CliError(
        `admin create needs the server's source beside the CLI (${ADMIN_CREATE} is missing)`,
      );
    }
    const args = ["--import", TSX, ADMIN_CREATE, "--email", values.email];
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
