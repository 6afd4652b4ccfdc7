import { type ParseArgsConfig, parseArgs } from "node:util";
import type { CommandContext } from "./cli-context.ts";
import { usageError } from "./cli-error.ts";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string];
type OptionSpecs = Record<string, OptionSpec & { description: string; valueName?: string }>;

/** What parseArgs gives for these specs: a string or boolean per option, absent when not given. */
type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]["type"] extends "string" ? string : boolean;
};

export interface Command {
  /** As typed: "rooms list", "send". */
  name: string;
  /** The positional arguments as the usage line shows them: "ROOM TEXT…". */
  synopsis: string;
  summary: string;
  /** More about the command, for `--help`. */
  details: string;
  options: OptionSpecs;
  run(ctx: CommandContext, argv: string[]): Promise<void>;
}

/** Options every command takes (the dispatcher reads them before the command runs). */
export const commonOptions = {
  url: { type: "string", description: "the server, e.g. https://parley.example.com", valueName: "URL" },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies OptionSpecs;

/**
 * A command with typed options, parsed strictly by node:util's parseArgs: an unknown option
 * or a missing value is a usage error (exit code 2), as is a wrong number of arguments.
 */
export function defineCommand<const O extends OptionSpecs>(spec: {
  name: string;
  synopsis?: string;
  summary: string;
  details: string;
  options: O;
  positionals: { min: number; max: number };
  run(ctx: CommandContext, values: OptionValues<O>, positionals: string[]): Promise<void>;
}): Command {
  return {
    name: spec.name,
    synopsis: spec.synopsis ?? "",
    summary: spec.summary,
    details: spec.details,
    options: spec.options,
    async run(ctx, argv) {
      const { values, positionals } = parseCommandLine(argv, spec.options, spec.name);
      const { min, max } = spec.positionals;
      if (positionals.length < min || positionals.length > max) {
        const expected = spec.synopsis ? ` ${spec.synopsis}` : "";
        throw usageError(`usage: parley ${spec.name}${expected}  (see parley ${spec.name} --help)`);
      }
      await spec.run(ctx, values as OptionValues<O>, positionals);
    },
  };
}

function parseCommandLine(argv: string[], options: OptionSpecs, commandName: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, ...commonOptions },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw usageError(`${message}\n(see parley ${commandName} --help)`);
  }
}
