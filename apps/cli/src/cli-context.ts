import type { ParleyClient, ParleyClientOptions } from "@parley/client";
import { CliError, ExitCode } from "./cli-error.ts";
import { type Credentials, readConfig, serverKey } from "./config-store.ts";

/** The process as the CLI sees it: passed in, so no module reaches for globals. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: long-running commands stop cleanly. */
  signal: AbortSignal;
}

export interface CommandContext {
  io: CliIo;
  /** The server's base URL (--url, $PARLEY_URL, the last one used, or localhost:3000). */
  url: string;
  configDir: string;
  /** --json was given: results as JSON on stdout, notices and errors as JSON lines on stderr. */
  json: boolean;
  /** A client for `url` without credentials (login). */
  anonymous(): Promise<ParleyClient>;
  /** A client with the token stored for `url`; fails with exit code 3 when there is none. */
  signedIn(options?: { onSocketOpen?: () => void; onSocketClose?: () => void }): Promise<{
    api: ParleyClient;
    credentials: Credentials;
  }>;
  print(line: string): void;
  /** One JSON value on a line of its own (a whole listing, or one event of a stream). */
  printJson(value: unknown): void;
  /** A notice for the person watching, on stderr (with --json, as {"notice": line}). */
  warn(line: string): void;
}

export const DEFAULT_URL = "http://localhost:3000";

/** --url wins, then $PARLEY_URL, then the server of the last login, then the default. */
export async function resolveUrl(flag: string | undefined, io: CliIo, configDir: string): Promise<string> {
  const candidate = flag ?? io.env.PARLEY_URL ?? (await readConfig(configDir)).lastUrl ?? DEFAULT_URL;
  try {
    const parsed = new URL(candidate);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http(s)");
    return parsed.origin;
  } catch {
    throw new CliError(
      `Not a server URL: ${candidate} (expected e.g. http://localhost:3000)`,
      ExitCode.usage,
    );
  }
}

/**
 * The tRPC client and ws, imported on first use: most of what the CLI loads, and nothing that
 * `--help` or a usage error needs.
 */
async function loadClient(options: ParleyClientOptions): Promise<ParleyClient> {
  const [{ createParleyClient }, { default: WebSocket }] = await Promise.all([
    import("@parley/client"),
    import("ws"),
  ]);
  return createParleyClient({ ...options, WebSocket });
}

export function createCommandContext(
  io: CliIo,
  url: string,
  configDir: string,
  json: boolean,
): CommandContext {
  return {
    io,
    url,
    configDir,
    json,
    anonymous: () => loadClient({ url }),
    async signedIn(options = {}) {
      const credentials = (await readConfig(configDir)).servers[serverKey(url)];
      if (!credentials) {
        throw new CliError(
          `Not signed in to ${url}: run \`parley login --url ${url}\` first.`,
          ExitCode.auth,
        );
      }
      const api = await loadClient({ url, token: credentials.token, ...options });
      return { api, credentials };
    },
    print: (line) => io.stdout.write(`${line}\n`),
    printJson: (value) => io.stdout.write(`${JSON.stringify(value)}\n`),
    warn: (line) => io.stderr.write(`${json ? JSON.stringify({ notice: line }) : line}\n`),
  };
}
