// The CLI's build: `node build.mjs` (`--force`: always) bundles src/ into dist/ with esbuild.
// bin/parley.mjs calls ensureBuilt() before every run, so a fresh clone or an edited source
// needs no extra step, and no run ever uses a stale bundle.
//
// dist/ holds
//   main.mjs, chunk-*.mjs   the entry and the chunks its dynamic imports load: `parley --help`
//                           never loads the tRPC client or ws, which only commands that talk to
//                           the server import
//   build-info.json         what the bundle was made of: see fingerprint
//
// The staleness check runs before every command, so it reads no source: it lists the directories
// the last build's sources came from (esbuild's metafile names them) and compares the names,
// sizes and modification times it finds there with those of the build, in 1-2 ms.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const cliDir = dirname(fileURLToPath(import.meta.url));
const root = join(cliDir, "..", "..");
const distDir = join(cliDir, "dist");
const infoFile = join(distDir, "build-info.json");
// Out of git's and Biome's way, and on dist's filesystem so that a finished build is renamed in.
const workDir = join(cliDir, "node_modules", ".cache", "parley-cli-build");

/**
 * Inputs no import names: the build itself, the versions of the dependencies (the lockfile)
 * and of the CLI (its package.json, which --version prints), and the packages' exports maps.
 */
const fixedInputs = [
  "apps/cli/build.mjs",
  "apps/cli/package.json",
  "packages/api/package.json",
  "packages/client/package.json",
  "packages/core/package.json",
  "pnpm-lock.yaml",
];

/** name:size:mtime of each file directly in `dir` (or of the file itself). */
function listEntries(path, out) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) {
    out.push(`${relative(root, path)}:missing`);
  } else if (stat.isDirectory()) {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = statSync(join(path, entry.name));
      out.push(`${relative(root, path)}/${entry.name}:${file.size}:${Math.trunc(file.mtimeMs)}`);
    }
  } else {
    out.push(`${relative(root, path)}:${stat.size}:${Math.trunc(stat.mtimeMs)}`);
  }
}

/**
 * A new file beside a source (a new command) changes its directory's listing; a file in a
 * directory no source came from yet can only join the bundle through an edited import, which
 * changes the importing file. Dependencies in node_modules change with the lockfile.
 */
function fingerprint(sourceDirs) {
  // Not Node's version, unlike the server's: the bundle's target is fixed, and CI runs the
  // suite under Node 22 and then 24 on one checkout.
  const entries = [];
  for (const path of [...new Set([...sourceDirs, ...fixedInputs])].sort()) {
    listEntries(join(root, path), entries);
  }
  return entries;
}

function readInfo() {
  try {
    return JSON.parse(readFileSync(infoFile, "utf8"));
  } catch {
    return undefined;
  }
}

/** Whether dist/ is missing or older than what it was built from. */
export function isStale() {
  const info = readInfo();
  if (!info || !Array.isArray(info.sourceDirs) || !Array.isArray(info.fingerprint)) return true;
  return (
    info.fingerprint.join("\n") !== fingerprint(info.sourceDirs).join("\n") ||
    !existsSync(join(distDir, "main.mjs"))
  );
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/** One build at a time (parallel runs of a fresh checkout): the others wait for it. */
async function withBuildLock(fn) {
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
      const holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

async function build() {
  const { build: esbuild } = await import("esbuild");
  const next = join(workDir, `next-${process.pid}`);
  rmSync(next, { recursive: true, force: true });
  const result = await esbuild({
    absWorkingDir: cliDir,
    entryPoints: ["src/main.ts"],
    outdir: next,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    // ws's optional native speed-ups, never installed here; ws works without them.
    external: ["bufferutil", "utf-8-validate"],
    // ws is CommonJS and requires Node's built-ins; an ES module has no `require` of its own.
    banner: {
      js: 'import { createRequire as __parleyCreateRequire } from "node:module";\nconst require = __parleyCreateRequire(import.meta.url);',
    },
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
  });
  const sourceDirs = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = relative(root, join(cliDir, input));
    if (!path.split("/").includes("node_modules")) sourceDirs.add(dirname(path));
  }
  const dirs = [...sourceDirs].sort();
  writeFileSync(
    join(next, "build-info.json"),
    `${JSON.stringify({ builtAt: new Date().toISOString(), sourceDirs: dirs, fingerprint: fingerprint(dirs) }, null, 2)}\n`,
  );
  const old = join(workDir, `old-${process.pid}`);
  if (existsSync(distDir)) renameSync(distDir, old);
  renameSync(next, distDir);
  rmSync(old, { recursive: true, force: true });
}

/** Builds dist/ unless it is up to date with its sources. */
export async function ensureBuilt({ force = false } = {}) {
  if (!force && !isStale()) return;
  await withBuildLock(async () => {
    // Another process may have built it while this one waited for the lock.
    if (force || isStale()) await build();
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await ensureBuilt({ force: process.argv.includes("--force") });
}
