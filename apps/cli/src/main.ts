import cliPackage from "../package.json" with { type: "json" };
import { runCli } from "./cli.ts";

// The CLI's entry point, and the one place it touches the process: environment, streams,
// signals and the exit code. Everything below takes them as arguments.
const abort = new AbortController();
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second Ctrl-C quits at once, should a clean stop hang.
    if (interrupted) process.exit(130);
    interrupted = true;
    abort.abort();
  });
}

const code = await runCli(
  process.argv.slice(2),
  {
    // biome-ignore lint/style/noProcessEnv: the CLI's entry point reads the environment here, once.
    env: { ...process.env },
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: abort.signal,
  },
  cliPackage.version,
);
// Exits now rather than when the event loop drains: a closing WebSocket would hold it a second.
process.exit(code);
