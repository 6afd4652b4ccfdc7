import { execFile } from "node:child_process";
import { serverDir } from "./server-process.ts";

/** Runs `admin:create` (src/admin-create.ts) in its own process, with `stdin` as the typed password. */
export function runAdminCreate(args: string[], stdin: string, env: Record<string, string>) {
  return runNode(["--import", "tsx", "src/admin-create.ts", ...args], stdin, env);
}

/**
 * `node start.mjs <entry> [args]` in apps/server: what `pnpm admin:create`, `pnpm db:migrate`
 * (`main --migrate-only`) and the other root scripts run, from the bundle in dist/.
 */
export function runStartScript(args: string[], stdin: string, env: Record<string, string>) {
  return runNode(["start.mjs", ...args], stdin, env);
}

function runNode(args: string[], stdin: string, env: Record<string, string>) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: serverDir, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }),
    );
    child.stdin?.end(stdin);
  });
}
