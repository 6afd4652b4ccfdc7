import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/parley.mjs", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh, empty config home: each test's `parley login` keeps its token apart. */
export async function freshConfigHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), "parley-cli-config-"));
}

/** The `parley` bin as a child process, as a person would run it; resolves when it exits. */
export function runParley(
  args: string[],
  options: { configHome: string; url?: string; stdin?: string; env?: Record<string, string> },
): Promise<CliRun> {
  const child = startParley(args, options);
  if (options.stdin !== undefined) child.child.stdin?.end(options.stdin);
  else child.child.stdin?.end();
  return child.exited.then((code) => ({ code, stdout: child.stdout(), stderr: child.stderr() }));
}

export interface RunningCli {
  child: ReturnType<typeof spawn>;
  stdout(): string;
  stderr(): string;
  /** Resolves once the output (stdout or stderr) satisfies the predicate. */
  until(predicate: (output: { stdout: string; stderr: string }) => boolean): Promise<void>;
  exited: Promise<number | null>;
}

export function startParley(
  args: string[],
  options: { configHome: string; url?: string; env?: Record<string, string> },
): RunningCli {
  const child = spawn(process.execPath, [bin, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: options.configHome,
      XDG_CONFIG_HOME: options.configHome,
      ...(options.url ? { PARLEY_URL: options.url } : {}),
      ...options.env,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    notify();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    until(predicate) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate({ stdout, stderr })) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        void exited.then((code) => {
          if (waiters.has(check)) {
            waiters.delete(check);
            reject(new Error(`parley exited (${code}) first.\nstdout:\n${stdout}\nstderr:\n${stderr}`));
          }
        });
        check();
      });
    },
  };
}
