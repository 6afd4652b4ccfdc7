import { type CliIo, createCommandContext, resolveUrl } from "./cli-context.ts";
import { describeFailure, ExitCode, type ExitCodeValue, exitCodeName, usageError } from "./cli-error.ts";
import type { CommandEntry } from "./command.ts";
import { commands } from "./commands/index.ts";
import { configDir } from "./config-store.ts";
import { commandHelp, groupHelp, mainHelp } from "./help.ts";

interface GlobalOptions {
  url: string | undefined;
  help: boolean;
  version: boolean;
  /** Only looked at here, for how errors print: the listings parse --json themselves. */
  json: boolean;
  rest: string[];
}

/**
 * Takes out what is read before any command runs (which server, whether help or the version
 * was asked for), wherever it stands on the line: `parley --url X rooms list` and
 * `parley rooms list --url X`.
 */
function takeGlobalOptions(argv: string[]): GlobalOptions {
  const options: GlobalOptions = { url: undefined, help: false, version: false, json: false, rest: [] };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    if (arg === "--") {
      options.rest.push(...argv.slice(index));
      break;
    }
    if (arg === "--url") {
      options.url = argv[++index];
      if (options.url === undefined) {
        throw usageError("--url needs a value, e.g. --url http://localhost:3000");
      }
    } else if (arg.startsWith("--url=")) options.url = arg.slice("--url=".length);
    else if (arg === "--help" || arg === "-h") options.help = true;
    else if (arg === "--version" || arg === "-V") options.version = true;
    else {
      if (arg === "--json") options.json = true;
      options.rest.push(arg);
    }
  }
  return options;
}

/** The command its first one or two words name ("tail", "rooms list"), and its arguments. */
function findCommand(words: string[]): { entry: CommandEntry; args: string[] } | null {
  for (const length of [2, 1]) {
    const name = words.slice(0, length).join(" ");
    const entry = commands.find((c) => c.name === name);
    if (entry) return { entry, args: words.slice(length) };
  }
  return null;
}

/** The words a command's name could be made of, for an error that quotes them. */
const commandWords = (words: string[]) =>
  words.slice(0, 2).filter((word, index) => index === 0 || !word.startsWith("-"));

/** Runs one command line; resolves with the exit code. Errors go to stderr, results to stdout. */
export async function runCli(argv: string[], io: CliIo, version: string): Promise<ExitCodeValue> {
  let url = "";
  let json = argv.includes("--json");
  try {
    const global = takeGlobalOptions(argv);
    json = global.json;
    if (global.version) {
      io.stdout.write(`${version}\n`);
      return ExitCode.ok;
    }
    const helpWord = global.rest[0] === "help";
    const helpWanted = global.help || helpWord;
    const words = helpWord ? global.rest.slice(1) : global.rest;
    if (words.length === 0) {
      io.stdout.write(mainHelp(commands));
      // A bare `parley` is a usage mistake; asking for help is not.
      return helpWanted ? ExitCode.ok : ExitCode.usage;
    }
    const found = findCommand(words);
    if (!found) {
      const group = commands.filter((c) => c.name.startsWith(`${words[0]} `));
      if (group.length > 0 && helpWanted) {
        io.stdout.write(groupHelp(words[0] ?? "", group));
        return ExitCode.ok;
      }
      throw usageError(
        group.length > 0
          ? `"${words[0]}" needs a subcommand: ${group.map((c) => c.name).join(", ")} (see parley ${words[0]} --help)`
          : `unknown command "${commandWords(words).join(" ")}" (see parley --help)`,
      );
    }
    const command = await found.entry.load();
    if (helpWanted) {
      io.stdout.write(commandHelp(found.entry, command));
      return ExitCode.ok;
    }
    const dir = configDir(io.env);
    url = await resolveUrl(global.url, io, dir);
    await command.run(createCommandContext(io, url, dir, json), found.args, found.entry);
    return ExitCode.ok;
  } catch (error) {
    const failure = describeFailure(error, url);
    if (json) {
      const code = exitCodeName(failure.exitCode);
      const detail = { code, exitCode: failure.exitCode, message: failure.message };
      io.stderr.write(`${JSON.stringify({ error: detail })}\n`);
    } else if (failure.message) io.stderr.write(`parley: ${failure.message}\n`);
    return failure.exitCode;
  }
}
