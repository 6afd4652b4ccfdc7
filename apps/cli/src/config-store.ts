import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Credentials {
  token: string;
  email: string;
}

/** What the CLI remembers: a session token per server, and the server used last. */
export interface StoredConfig {
  lastUrl?: string;
  servers: Record<string, Credentials>;
}

/** $XDG_CONFIG_HOME/parley, or ~/.config/parley. */
export function configDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "parley");
}

/** Where the tokens are kept. */
export const configFile = (dir: string) => join(dir, "config.json");

export async function readConfig(dir: string): Promise<StoredConfig> {
  let text: string;
  try {
    text = await readFile(configFile(dir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { servers: {} };
    throw error;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || !("servers" in parsed)) return { servers: {} };
  return parsed as StoredConfig;
}

/**
 * The file holds session tokens, which are as good as passwords: the directory is 0700 and the
 * file 0600, written beside and renamed into place so a crash never leaves half a file. The
 * chmod calls cover a file or directory that existed before with looser modes.
 */
async function writeConfig(dir: string, config: StoredConfig): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const temporary = `${configFile(dir)}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, configFile(dir));
}

/** Servers are keyed by origin: a token is only ever sent back to the server that issued it. */
export const serverKey = (url: string) => new URL(url).origin;

export async function saveCredentials(dir: string, url: string, credentials: Credentials): Promise<void> {
  const config = await readConfig(dir);
  config.servers[serverKey(url)] = credentials;
  config.lastUrl = serverKey(url);
  await writeConfig(dir, config);
}

export async function forgetCredentials(dir: string, url: string): Promise<void> {
  const config = await readConfig(dir);
  delete config.servers[serverKey(url)];
  await writeConfig(dir, config);
}
