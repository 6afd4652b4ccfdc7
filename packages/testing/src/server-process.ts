import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * apps/server, whose programs these helpers run. A path, not an import: apps/server's own tests
 * depend on this package, so a dependency back on the app would be a cycle (turbo refuses it).
 */
export const serverDir = fileURLToPath(new URL("../../../apps/server/", import.meta.url));

/** One of apps/server's programs in a process of its own. */
export interface ServerProgram {
  child: ChildProcess;
  /** All it printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no shutdown code runs. Resolves once the process is gone. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface ServerProcess extends ServerProgram {
  url: string;
}

/**
 * Runs `node <args>` in apps/server with only `env` (and PATH), resolving once its output matches
 * `ready`, or rejecting with its output if it exits first.
 */
export function spawnServerProgram(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ program: ServerProgram; ready: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const program: ServerProgram = {
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    const untilReady = (chunk: Buffer) => {
      collect(chunk);
      const match = ready.exec(output);
      if (!match) return;
      // Only collected from here on: the output is not searched again at every line.
      for (const stream of [child.stdout, child.stderr]) stream.off("data", untilReady).on("data", collect);
      resolve({ program, ready: match });
    };
    child.stdout.on("data", untilReady);
    child.stderr.on("data", untilReady);
    void exited.then((code) =>
      reject(new Error(`${name} exited with ${code} before it was ready:\n${output}`)),
    );
  });
}

/**
 * Runs src/main.ts in its own Node process (with `bundle`, `node start.mjs main`: exactly what
 * `pnpm start` runs), resolving with its URL once it logs that it listens, or rejecting with its
 * output if it exits first.
 */
export async function spawnServer(
  env: Record<string, string>,
  options: { bundle?: boolean; args?: string[] } = {},
): Promise<ServerProcess> {
  const entry = options.bundle ? ["start.mjs", "main"] : ["--import", "tsx", "src/main.ts"];
  const { program, ready } = await spawnServerProgram(
    "server",
    [...entry, ...(options.args ?? [])],
    { PORT: "0", LOG_LEVEL: "info", ...env },
    /"url":"(http:\/\/[^"]+)".*"msg":"Parley is listening"/,
  );
  return { ...program, url: ready[1] ?? "" };
}
