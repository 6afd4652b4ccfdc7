import { type CliIo, createCommandContext, resolveUrl } from "./cli-context.ts";
import { describeFailure, ExitCode, type ExitCodeValue, usageError } from "./cli-error.ts";
import type { Command } from "./command.ts";
import { commands } from "./commands/index.ts";
import { configDir } from "./config-store.ts";
import { commandHelp, mainHelp } from "./help.ts";

/**
 * Takes out what is read before any command runs (which server, whether help was asked for),
 * wherever it stands on the line: `parley --url X rooms list` and `parley rooms list --url X`.
 */
function takeGlobalOptions(argv: string[]): { url: string | undefined; help: boolean; rest: string[] } {
  let url: string | undefined;
  let help = false;
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    if (arg === "--") {
      rest.push(...argv.slice(index));
      break;
    }
    if (arg === "--url") {
      url = argv[++index];
      if (url === undefined) throw usageError("--url needs a value, e.g. --url http://localhost:3000");
    } else if (arg.startsWith("--url=")) url = arg.slice("--url=".length);
    else if (arg === "--help" || arg === "-h") help = true;
    else rest.push(arg);
  }
  return { url, help, rest };
}

/** The command its first one or two words name ("tail", "rooms list"), and its arguments. */
function findCommand(words: string[]): { command: Command; args: string[] } | null {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(" ");
    const command = commands.find((c) => c.name === name);
    if (command) return { command, args: words.slice(length) };
  }
  return null;
}

/** Runs one command line; resolves with the exit code. Errors go to stderr, results to stdout. */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCodeValue> {
  let url = "";
  try {
    const global = takeGlobalOptions(argv);
    const helpWord = global.rest[0] === "help";
    const words = helpWord ? global.rest.slice(1) : global.rest;
    if (words.length === 0) {
      io.stdout.write(mainHelp(commands));
      // A bare `parley` is a usage mistake; asking for help is not.
      return global.help || helpWord ? ExitCode.ok : ExitCode.usage;
    }
    const found = findCommand(words);
    if (!found) {
      const group = commands.filter((c) => c.name.startsWith(`${words[0]} `)).map((c) => c.name);
      throw usageError(
        group.length > 0
          ? `"${words[0]}" needs a subcommand: ${group.join(", ")}`
          : `unknown command "${words.slice(0, 2).join(" ")}" (see parley --help)`,
      );
    }
    if (global.help || helpWord) {
      io.stdout.write(commandHelp(found.command));
      return ExitCode.ok;
    }
    const dir = configDir(io.env);
    url = await resolveUrl(global.url, io, dir);
    await found.command.run(createCommandContext(io, url, dir), found.args);
    return ExitCode.ok;
  } catch (error) {
    const failure = describeFailure(error, url);
    if (failure.message) io.stderr.write(`parley: ${failure.message}\n`);
    return failure.exitCode;
  }
}
