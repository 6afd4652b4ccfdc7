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
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureFresh, isMainScript, nodeBundleOptions, readJson } from "@parley/on-demand-build";

const cliDir = dirname(fileURLToPath(import.meta.url));
const root = join(cliDir, "..", "..");
const distDir = join(cliDir, "dist");
const infoFile = join(distDir, "build-info.json");
// Out of git's and Biome's way, and on dist's filesystem so that a finished build is renamed in.
const workDir = join(cliDir, "node_modules", ".cache", "parley-cli-build");

/**
 * Inputs no import names: the build itself (and its shared part), the versions of the dependencies (the lockfile)
 * and of the CLI (its package.json, which --version prints), and the packages' exports maps.
 */
const fixedInputs = [
  "apps/cli/build.mjs",
  "apps/cli/package.json",
  "tooling/on-demand-build/index.mjs",
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

/** Whether dist/ is missing or older than what it was built from. */
export function isStale() {
  const info = readJson(infoFile);
  if (!info || !Array.isArray(info.sourceDirs) || !Array.isArray(info.fingerprint)) return true;
  return (
    info.fingerprint.join("\n") !== fingerprint(info.sourceDirs).join("\n") ||
    !existsSync(join(distDir, "main.mjs"))
  );
}

async function build(next) {
  const { build: esbuild } = await import("esbuild");
  const result = await esbuild({
    ...nodeBundleOptions,
    absWorkingDir: cliDir,
    entryPoints: ["src/main.ts"],
    outdir: next,
    // ws's optional native speed-ups, never installed here; ws works without them.
    external: ["bufferutil", "utf-8-validate"],
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
}

/** Builds dist/ unless it is up to date with its sources. */
export async function ensureBuilt({ force = false } = {}) {
  await ensureFresh({ distDir, workDir, isStale, build, force });
}

if (isMainScript(import.meta.url)) {
  await ensureBuilt({ force: process.argv.includes("--force") });
}
