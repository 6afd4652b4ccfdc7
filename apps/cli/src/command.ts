import { type ParseArgsConfig, parseArgs } from "node:util";
import type { CommandContext } from "./cli-context.ts";
import { usageError } from "./cli-error.ts";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string];
type OptionSpecs = Record<string, OptionSpec & { description: string; valueName?: string }>;

/** What parseArgs gives for these specs: a string or boolean per option, absent when not given. */
type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]["type"] extends "string" ? string : boolean;
};

/**
 * What `parley --help` lists, kept apart from the command itself (its details, options and
 * code), which is imported only when it runs or shows its own help: listing the commands loads
 * neither zod nor the tRPC client.
 */
export interface CommandEntry {
  /** As typed: "rooms list", "send". */
  name: string;
  /** The positional arguments as the usage line shows them: "ROOM TEXT…". */
  synopsis: string;
  summary: string;
  load(): Promise<Command>;
}

/**
 * How a listing prints with --json: "array" is one JSON array of objects; "lines" is one JSON
 * object per line as things happen (JSON Lines), for a command that never ends, like tail.
 */
export type JsonOutput = "array" | "lines";

export interface Command {
  /** More about the command, for `--help`. */
  details: string;
  options: OptionSpecs;
  /** Set for the listings: they take --json and print this way with it. */
  json?: JsonOutput;
  run(ctx: CommandContext, argv: string[], entry: CommandEntry): Promise<void>;
}

/** Options every command takes (the dispatcher reads them before the command runs). */
export const commonOptions = {
  url: { type: "string", description: "the server, e.g. https://parley.example.com", valueName: "URL" },
  help: { type: "boolean", short: "h", description: "show this help" },
} as const satisfies OptionSpecs;

const jsonOption = {
  json: { type: "boolean", description: "print JSON (field names are stable; times are ISO 8601, UTC)" },
} as const satisfies OptionSpecs;

export const JSON_DESCRIPTIONS: Record<JsonOutput, string> = {
  array: "With --json: one JSON array of objects on standard output.",
  lines: "With --json: one JSON object per line (JSON Lines), as each arrives.",
};

/**
 * A command with typed options, parsed strictly by node:util's parseArgs: an unknown option
 * or a missing value is a usage error (exit code 2), as is a wrong number of arguments. A
 * listing (`json` set) takes --json, which its run sees as `values.json`.
 */
export function defineCommand<
  const O extends OptionSpecs,
  const J extends JsonOutput | undefined = undefined,
>(spec: {
  details: string;
  options: O;
  json?: J;
  positionals: { min: number; max: number };
  run(
    ctx: CommandContext,
    values: OptionValues<O> & (J extends JsonOutput ? { json?: boolean } : unknown),
    positionals: string[],
  ): Promise<void>;
}): Command {
  const options: OptionSpecs = spec.json ? { ...spec.options, ...jsonOption } : spec.options;
  return {
    details: spec.json ? `${spec.details}\n${JSON_DESCRIPTIONS[spec.json]}` : spec.details,
    options,
    json: spec.json,
    async run(ctx, argv, entry) {
      const { values, positionals } = parseCommandLine(argv, options, entry.name);
      const { min, max } = spec.positionals;
      if (positionals.length < min || positionals.length > max) {
        const expected = entry.synopsis ? ` ${entry.synopsis}` : "";
        throw usageError(`usage: parley ${entry.name}${expected}  (see parley ${entry.name} --help)`);
      }
      await spec.run(ctx, values as Parameters<typeof spec.run>[1], positionals);
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
