import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const buildScripts = ["../build.mjs", "../../server/build.mjs"].map((path) =>
  fileURLToPath(new URL(path, import.meta.url)),
);

/**
 * Builds the CLI's bundle and the server's (which `parley admin create` runs) before the tests,
 * when missing or stale, as the first `parley` of a fresh clone would: the tests then see what
 * every later run prints, without a build's notices.
 */
export default async function setup() {
  await Promise.all(
    buildScripts.map(
      (script) =>
        new Promise<void>((resolve, reject) =>
          execFile(process.execPath, [script], { timeout: 300_000 }, (error, _stdout, stderr) =>
            error ? reject(new Error(`${script} failed:\n${stderr}`)) : resolve(),
          ),
        ),
    ),
  );
}
