import { type Command, commonOptions } from "./command.ts";

const EXIT_CODES = [
  "Exit codes:",
  "  0  done",
  "  1  failed: the server refused, or could not be reached",
  "  2  bad usage: unknown command or option, missing or invalid argument",
  "  3  not signed in, session ended, or wrong email or password",
].join("\n");

const ENVIRONMENT = [
  "Environment:",
  "  PARLEY_URL        the server, when --url is not given (default: the last one signed in to,",
  "                    else http://localhost:3000)",
  "  XDG_CONFIG_HOME   where the parley/ config directory is (default: ~/.config)",
].join("\n");

function optionLines(options: Command["options"]): string[] {
  const entries = Object.entries({ ...options, ...commonOptions }).map(([name, option]) => {
    const flag = `${"short" in option && option.short ? `-${option.short}, ` : ""}--${name}`;
    const value = option.type === "string" ? ` ${"valueName" in option ? option.valueName : "VALUE"}` : "";
    return [`${flag}${value}`, option.description] as const;
  });
  const width = Math.max(...entries.map(([flag]) => flag.length));
  return entries.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`);
}

export function mainHelp(commands: Command[]): string {
  const usages = commands.map((c) => [`${c.name}${c.synopsis ? ` ${c.synopsis}` : ""}`, c.summary] as const);
  const width = Math.max(...usages.map(([usage]) => usage.length));
  return [
    "parley: the Parley command line, for the people who run a Parley service",
    "",
    "Usage: parley COMMAND [OPTIONS]",
    "",
    "Commands:",
    ...usages.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`),
    "",
    "Options every command takes:",
    ...optionLines({}),
    "",
    "Run `parley COMMAND --help` for a command's options.",
    "",
    ENVIRONMENT,
    "",
    EXIT_CODES,
    "",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  return [
    `parley ${command.name}: ${command.summary}`,
    "",
    `Usage: parley ${command.name}${command.synopsis ? ` ${command.synopsis}` : ""} [OPTIONS]`,
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
