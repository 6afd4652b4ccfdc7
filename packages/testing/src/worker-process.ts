import { type ChildProcess, spawn } from "node:child_process";
import { serverDir } from "./server-process.ts";

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no shutdown, no chance to report what it was doing. */
  kill(): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs src/worker-main.ts (what `pnpm worker` runs) in its own Node process, resolving once it
 * logs that it started, or rejecting with its output if it exits first.
 */
export function spawnWorker(
  env: Record<string, string>,
  options: { bundle?: boolean } = {},
): Promise<WorkerProcess> {
  // bundle: `node start.mjs worker-main`, exactly what `pnpm worker` runs.
  const args = options.bundle ? ["start.mjs", "worker-main"] : ["--import", "tsx", "src/worker-main.ts"];
  const child = spawn(process.execPath, args, {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"email worker started"')) {
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        child.stdout.on("data", (more: Buffer) => {
          output += more.toString();
        });
        child.stderr.on("data", (more: Buffer) => {
          output += more.toString();
        });
        resolve({
          child,
          output: () => output,
          async kill() {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
            await exited;
          },
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            return exited;
          },
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`worker exited with ${code} before starting:\n${output}`)));
  });
}
