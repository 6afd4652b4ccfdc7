import { cpSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const benchDir = fileURLToPath(new URL("..", import.meta.url));
const root = join(benchDir, "..");

/** The peers' bundles (socketio-peer.mjs, floor.mjs). */
export const peersDist = join(benchDir, "dist");
/**
 * Parley's bench entry, bundled beside apps/server's node_modules: the packages its production
 * build leaves out (argon2's native addon, PGlite with its wasm) resolve from there, as they do
 * for apps/server/dist.
 */
export const parleyDist = join(root, "apps/server/node_modules/.cache/parley-bench");

/** What apps/server/build.mjs gives esbuild, so that every server runs as production code does. */
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20.19",
  outExtension: { ".js": ".mjs" },
  // CommonJS dependencies require Node's built-ins; an ES module has no `require` of its own.
  banner: {
    js: 'import { createRequire as __benchCreateRequire } from "node:module";\nconst require = __benchCreateRequire(import.meta.url);',
  },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
} as const;

/**
 * Every server of the bench as plain `node <bundle>`, no transpiler at run time: tsx would give
 * Parley's TypeScript (all of it) and the peers' entries (a file each) esbuild's keepNames and
 * a loader on every start, which no user runs.
 */
export async function bundleServers(): Promise<void> {
  await build({
    ...common,
    absWorkingDir: benchDir,
    entryPoints: ["src/servers/socketio-peer.ts", "src/servers/floor.ts"],
    outdir: peersDist,
    // Optional native helpers of pg and ws, not installed.
    external: ["pg-native", "bufferutil", "utf-8-validate"],
  });
  await build({
    ...common,
    absWorkingDir: benchDir,
    entryPoints: ["src/servers/parley.ts"],
    outdir: parleyDist,
    external: ["@node-rs/argon2", "@electric-sql/pglite", "pg-native", "bufferutil", "utf-8-validate"],
  });
  // migrate() looks for ./drizzle beside the bundle, as in apps/server/dist.
  cpSync(join(root, "packages/db/drizzle"), join(parleyDist, "drizzle"), { recursive: true });
}
