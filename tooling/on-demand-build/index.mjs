// What the on-demand builds share (apps/cli/build.mjs, apps/server/build.mjs,
// apps/server/web-build.mjs): each is run before its program starts, when what it was built from
// changed; parallel starts wait for one build; a build is made in a directory of its own and
// renamed into place, so that a running program never reads half of one. What each build is made
// of, and how its staleness is checked, stays with the build.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * esbuild's options for a Node program bundled as ES modules with its chunks beside the entries,
 * as the production bundles are built.
 */
export const nodeBundleOptions = {
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunk-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20.19",
  // CommonJS dependencies require Node's built-ins; an ES module has no `require` of its own.
  banner: {
    js: 'import { createRequire as __parleyCreateRequire } from "node:module";\nconst require = __parleyCreateRequire(import.meta.url);',
  },
  // Smaller files parse faster; names are kept for stack traces, and the source map
  // (NODE_OPTIONS=--enable-source-maps) maps them back to the TypeScript.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
};

export function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** Runs a Node script to its end; stdout and stderr go to this process's stderr (stdout is the log's). */
export async function runNode(args, options = {}) {
  // Loaded here, not at the top: every `pnpm start` imports this file, and builds are rare.
  const { spawn } = await import("node:child_process");
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { ...options, stdio: ["ignore", 2, 2] });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`node ${args.join(" ")} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** One build at a time in `workDir` (two starts at once, parallel test files): the others wait for it. */
async function withBuildLock(workDir, fn) {
  mkdirSync(workDir, { recursive: true });
  const lockPath = join(workDir, "lock");
  for (;;) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      // A holder that died (killed mid-build) left its lock behind.
      const holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

/**
 * Runs `build(next)` unless `isStale()` says the output is up to date (`force`: always), then puts
 * `next` in place of `distDir`. `workDir` holds the lock and the directories of a build in
 * progress: out of git's and Biome's way if a build is interrupted, and on dist's filesystem so
 * that the finished build is renamed into place. Whether this process built it.
 */
export async function ensureFresh({ distDir, workDir, isStale, build, force = false }) {
  if (!force && !isStale()) return false;
  return await withBuildLock(workDir, async () => {
    // Another process may have built it while this one waited for the lock.
    if (!force && !isStale()) return false;
    const next = join(workDir, `next-${process.pid}`);
    rmSync(next, { recursive: true, force: true });
    await build(next);
    const old = join(workDir, `old-${process.pid}`);
    if (existsSync(distDir)) renameSync(distDir, old);
    renameSync(next, distDir);
    rmSync(old, { recursive: true, force: true });
    return true;
  });
}

/** Whether the module at `moduleUrl` is the script Node was asked to run (`node build.mjs`). */
export function isMainScript(moduleUrl) {
  return Boolean(process.argv[1]) && fileURLToPath(moduleUrl) === process.argv[1];
}
