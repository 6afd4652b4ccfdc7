// The web app the server serves at `/` (apps/web/dist): start.mjs calls ensureWebBuilt() beside
// ensureBuilt(), so `pnpm start` never serves a missing or stale app. `node web-build.mjs` builds
// it when stale (`--force`: always).
//
// Stale means: no dist/index.html, or an input modified after it. Modification times rather than
// build.mjs's fingerprint file, so that a build made any other way (`pnpm build`, `vite build`)
// counts as fresh too. A fresh clone has no dist: it is built.
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureFresh, isMainScript, runNode } from "@parley/on-demand-build";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const webDir = join(root, "apps", "web");
export const webDistDir = join(webDir, "dist");
const workDir = join(webDir, "node_modules", ".cache", "parley-web-build");

/** What the bundle is made of: the app, and the workspace code it imports at run time. */
const inputs = [
  "apps/web/src",
  "apps/web/index.html",
  "apps/web/vite.config.ts",
  "apps/web/package.json",
  "packages/client/src",
  "packages/client/package.json",
  "packages/api/src/schemas.ts",
  "packages/api/package.json",
  "packages/core/src/domain/schemas",
  "packages/core/package.json",
  "pnpm-lock.yaml",
];

function newestModification(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) {
    // Tests beside the sources are no input of the bundle.
    if (name === "node_modules" || name.endsWith(".test.ts")) continue;
    newest = Math.max(newest, newestModification(join(path, name)));
  }
  return newest;
}

export function isWebStale() {
  const built = statSync(join(webDistDir, "index.html"), { throwIfNoEntry: false });
  if (!built) return true;
  return inputs.some((input) => newestModification(join(root, input)) > built.mtimeMs);
}

async function buildWeb(next) {
  // Vite in a process of its own: its memory is returned when it ends, and it runs beside the
  // server's build.
  await runNode(
    [
      join(webDir, "node_modules", "vite", "bin", "vite.js"),
      "build",
      "--outDir",
      next,
      "--emptyOutDir",
      "--logLevel",
      "warn",
    ],
    {
      cwd: webDir,
      env: { ...process.env, NODE_ENV: "production" },
    },
  );
}

/** Builds apps/web/dist unless it is up to date with its inputs. */
export async function ensureWebBuilt({ force = false } = {}) {
  const started = performance.now();
  if (await ensureFresh({ distDir: webDistDir, workDir, isStale: isWebStale, build: buildWeb, force })) {
    process.stderr.write(`[build] apps/web/dist ready in ${Math.round(performance.now() - started)} ms\n`);
  }
}

if (isMainScript(import.meta.url)) {
  await ensureWebBuilt({ force: process.argv.includes("--force") });
}
