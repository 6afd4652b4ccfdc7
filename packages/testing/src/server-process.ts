import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * apps/server, whose programs these helpers run. A path, not an import: apps/server's own tests
 * depend on this package, so a dependency back on the app would be a cycle (turbo refuses it).
 */
export const serverDir = fileURLToPath(new URL("../../../apps/server/", import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no shutdown code runs. Resolves once the process is gone. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Runs src/main.ts in its own Node process (with `bundle`, `node start.mjs main`: exactly what
 * `pnpm start` runs), resolving with its URL once it logs that it listens, or rejecting with its
 * output if it exits first.
 */
export function spawnServer(
  env: Record<string, string>,
  options: { bundle?: boolean; args?: string[] } = {},
): Promise<ServerProcess> {
  const entry = options.bundle ? ["start.mjs", "main"] : ["--import", "tsx", "src/main.ts"];
  const child = spawn(process.execPath, [...entry, ...(options.args ?? [])], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"Parley is listening"/.exec(output);
      if (match?.[1]) {
        resolve({
          url: match[1],
          child,
          output: () => output,
          exited,
          async stop() {
            if (child.exitCode === null) child.kill("SIGTERM");
            return exited;
          },
          async kill() {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
            await exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
}
