// The production start: `node start.mjs <entry> [args]` (what `pnpm start`, `pnpm worker`,
// `pnpm admin:create` and `pnpm db:migrate` run), entry one of main, worker-main, admin-create.
// Builds dist/ first when it is missing or older than the sources (see build.mjs), and for the
// server the web app it serves at / (see web-build.mjs), both at once; then runs the bundled entry
// in this same process: signals (SIGTERM, SIGINT) reach the server directly.
import module from "node:module";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./build.mjs";
import { runCachedBundle } from "./cached-bundle.mjs";
import { ensureWebBuilt } from "./web-build.mjs";

const entries = new Set(["main", "worker-main", "admin-create"]);
const entry = process.argv[2] ?? "";
if (!entries.has(entry)) {
  process.stderr.write(`usage: node start.mjs <${[...entries].join(" | ")}> [arguments]\n`);
  process.exit(2);
}
// The entry sees its own arguments where it would without this launcher.
process.argv.splice(2, 1);
const migrateOnly = process.argv.includes("--migrate-only");
await Promise.all([ensureBuilt(), entry === "main" && !migrateOnly ? ensureWebBuilt() : undefined]);
if (entry === "main") {
  // The server keeps its compiled code on disk on every Node version (see cached-bundle.mjs).
  runCachedBundle(fileURLToPath(new URL("./dist/main.cjs", import.meta.url)));
} else {
  // Node 22.1+: V8 keeps the other entries' compiled code on disk.
  module.enableCompileCache?.();
  await import(`./dist/${entry}.mjs`);
}
