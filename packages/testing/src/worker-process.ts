import { type ServerProgram, spawnServerProgram } from "./server-process.ts";

export type WorkerProcess = ServerProgram;

/**
 * Runs src/worker-main.ts (what `pnpm worker` runs) in its own Node process, resolving once it
 * logs that it started, or rejecting with its output if it exits first.
 */
export async function spawnWorker(
  env: Record<string, string>,
  options: { bundle?: boolean } = {},
): Promise<WorkerProcess> {
  // bundle: `node start.mjs worker-main`, exactly what `pnpm worker` runs.
  const args = options.bundle ? ["start.mjs", "worker-main"] : ["--import", "tsx", "src/worker-main.ts"];
  const { program } = await spawnServerProgram(
    "worker",
    args,
    { LOG_LEVEL: "info", ...env },
    /"msg":"email worker started"/,
  );
  return program;
}
