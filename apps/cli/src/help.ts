import { EXIT_CODE_HELP, ExitCode, type ExitCodeName } from "./cli-error.ts";
import { type Command, type CommandEntry, commonOptions } from "./command.ts";

const EXIT_CODES = [
  "Exit codes:",
  ...(Object.keys(ExitCode) as ExitCodeName[]).map((name) => `  ${ExitCode[name]}  ${EXIT_CODE_HELP[name]}`),
].join("\n");

const ENVIRONMENT = [
  "Environment:",
  "  PARLEY_URL        the server, when --url is not given (default: the last one signed in to,",
  "                    else http://localhost:3000)",
  "  XDG_CONFIG_HOME   where the parley/ config directory is (default: ~/.config)",
].join("\n");

const OUTPUT = [
  "Output:",
  "  Results go to standard output; errors and notices to standard error, as `parley: MESSAGE`.",
  "  The listings take --json (their help says how they print with it); with --json, errors and",
  "  notices are JSON lines on standard error too:",
  '  {"error":{"code":"notFound","exitCode":4,"message":"…"}} or {"notice":"…"}.',
].join("\n");

type OptionEntries = Command["options"];

function optionLines(options: OptionEntries): string[] {
  const entries = Object.entries({ ...options, ...commonOptions }).map(([name, option]) => {
    const flag = `${"short" in option && option.short ? `-${option.short}, ` : ""}--${name}`;
    const value = option.type === "string" ? ` ${"valueName" in option ? option.valueName : "VALUE"}` : "";
    return [`${flag}${value}`, option.description] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

function commandList(commands: CommandEntry[]): string[] {
  const usages = commands.map((c) => [`${c.name}${c.synopsis ? ` ${c.synopsis}` : ""}`, c.summary] as const);
  const width = Math.max(...usages.map(([usage]) => usage.length));
  return usages.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`);
}

export function mainHelp(commands: CommandEntry[]): string {
  return [
    "parley: the Parley command line, for the people who run a Parley service",
    "",
    "Usage: parley COMMAND [OPTIONS]",
    "",
    "Commands:",
    ...commandList(commands),
    "",
    "Options every command takes:",
    ...optionLines({ version: { type: "boolean", short: "V", description: "print the version of parley" } }),
    "",
    "Run `parley COMMAND --help` for a command's options.",
    "",
    OUTPUT,
    "",
    ENVIRONMENT,
    "",
    EXIT_CODES,
    "",
  ].join("\n");
}

/** `parley rooms --help`: the commands of one group ("rooms list", "rooms create"). */
export function groupHelp(group: string, commands: CommandEntry[]): string {
  return [
    `parley ${group}: ${commands.map((c) => c.name.slice(group.length + 1)).join(", ")}`,
    "",
    `Usage: parley ${group} COMMAND [OPTIONS]`,
    "",
    "Commands:",
    ...commandList(commands),
    "",
    `Run \`parley ${group} COMMAND --help\` for a command's options.`,
    "",
  ].join("\n");
}

export function commandHelp(entry: CommandEntry, command: Command): string {
  return [
    `parley ${entry.name}: ${entry.summary}`,
    "",
    `Usage: parley ${entry.name}${entry.synopsis ? ` ${entry.synopsis}` : ""} [OPTIONS]`,
    "",
    command.details,
    "",
    "Options:",
    ...optionLines(command.options),
    "",
    EXIT_CODES,
    "",
  ].join("\n");
}
