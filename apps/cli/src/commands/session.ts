import { CliError, describeFailure, ExitCode, usageError } from "../cli-error.ts";
import { defineCommand } from "../command.ts";
import { configFile, forgetCredentials, saveCredentials } from "../config-store.ts";
import { prompt, readSecret } from "../read-input.ts";

export const login = defineCommand({
  details: [
    "The password is read from standard input: typed without echo at a terminal, or the first",
    "line of piped input (e.g. from a password manager). It is never an argument, which `ps`",
    "and shell history would show. The token is kept in $XDG_CONFIG_HOME/parley/config.json",
    "(~/.config/parley/config.json), readable by you only (mode 0600), one per server.",
  ].join("\n"),
  options: {
    email: {
      type: "string",
      description: "your account's email (asked for when left out)",
      valueName: "ADDRESS",
    },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx, values) {
    let email = values.email;
    if (!email) {
      if (!ctx.io.stdin.isTTY) throw usageError("--email is required when standard input is not a terminal");
      email = await prompt(ctx.io, "Email: ");
    }
    const password = await readSecret(ctx.io, "Password: ");
    // Imported here: the schemas bring zod (0.1-0.3 s to load), which whoami and logout do not need.
    const { loginInput } = await import("@parley/api/schemas");
    const parsed = loginInput.safeParse({ email, password });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
      throw usageError(`Invalid input:\n${problems.join("\n")}`);
    }
    const anonymous = await ctx.anonymous();
    const result = await anonymous.auth.login.mutate(parsed.data).catch((error: unknown) => {
      throw describeFailure(error, ctx.url).exitCode === ExitCode.auth
        ? new CliError(`Wrong email or password for ${ctx.url}.`, ExitCode.auth)
        : error;
    });
    if (!result.token) throw new CliError("The server returned no token: is --url a Parley server?");
    await saveCredentials(ctx.configDir, ctx.url, { token: result.token, email: result.user.email });
    ctx.print(`Signed in to ${ctx.url} as ${result.user.displayName} <${result.user.email}>.`);
    ctx.print(`Token saved in ${configFile(ctx.configDir)} (readable by you only).`);
  },
});

export const logout = defineCommand({
  details: "Ends the session server-side (its sockets close) and removes the token from the config file.",
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const { api } = await ctx.signedIn();
    try {
      await api.auth.logout.mutate();
    } finally {
      // Forgotten even when the server is unreachable or the session had already ended.
      await forgetCredentials(ctx.configDir, ctx.url);
    }
    ctx.print(`Signed out of ${ctx.url}.`);
  },
});

export const whoami = defineCommand({
  details: "Asks the server whose session the stored token is, and prints it.",
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const { api } = await ctx.signedIn();
    const me = await api.auth.me.query();
    if (!me)
      throw new CliError(`The saved session for ${ctx.url} has ended: run parley login.`, ExitCode.auth);
    ctx.print(`${me.displayName} <${me.email}> (${me.role}) on ${ctx.url}`);
  },
});
