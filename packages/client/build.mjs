// Builds what `pnpm pack` ships (see publishConfig in package.json); inside the workspace, apps
// import src/index.ts directly and never need this.
//
// dist/index.js    src/index.ts compiled by esbuild, imports left as they are (the package's
//                  dependencies resolve them in the installing project)
// dist/index.d.ts  the declarations, self-contained: the AppRouter type and everything it reaches
//                  in packages/api and packages/core inlined, so an installing project needs no
//                  server source
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dts, rollup } from "@parley/declaration-bundler";
import { build } from "esbuild";

const clientDir = dirname(fileURLToPath(import.meta.url));
const distDir = join(clientDir, "dist");
const emitDir = join(clientDir, "node_modules", ".cache", "declarations");
const tscBin = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const apiDeclarations = join(emitDir, "packages", "api", "src");
const coreDeclarations = join(emitDir, "packages", "core", "src");
const dbDeclarations = join(emitDir, "packages", "db", "src");
/** The workspace packages the router's types reach: inlined from their declarations, never imported. */
const workspaceEntries = new Map([
  ["@parley/api", join(apiDeclarations, "index.d.ts")],
  ["@parley/core", join(coreDeclarations, "index.d.ts")],
  ["@parley/core/schemas", join(coreDeclarations, "domain", "schemas", "index.d.ts")],
  // The closed lists (roles, statuses, audit actions) that outputs are typed with: no imports of its own.
  ["@parley/db/enums", join(dbDeclarations, "enums.d.ts")],
]);

/** What dist/index.d.ts may import: the package's own dependencies. */
const allowedImports = new Set(["@trpc/client", "@trpc/server", "@trpc/server/observable", "superjson"]);
// TrackedData, the type of chat.events' tracked() events: tRPC's own declarations import it from here.
allowedImports.add("@trpc/server/unstable-core-do-not-import");

/**
 * The router's types as tsc writes them name two server-only types: the context every procedure
 * runs with (the database, the bus, sessions: drizzle, pg, lucia, ioredis types) and the meta the
 * docs generator reads (trpc-to-openapi types). A client reads neither: tRPC's client types use
 * only the procedures' inputs, outputs and the error shape. They become `object`.
 */
const serverOnlyTypes = [
  ['import("./context.ts").Context', "object"],
  ['import("./trpc.ts").ProcedureMeta', "object"],
];

function eraseServerOnlyTypes(code) {
  let result = code;
  for (const [from, to] of serverOnlyTypes) {
    if (!result.includes(from)) {
      throw new Error(`packages/api/src/root.d.ts no longer mentions ${from}: update build.mjs`);
    }
    result = result.replaceAll(from, to);
  }
  return result;
}

/**
 * tsconfig.declarations.json maps @parley/api and @parley/core to their source with `paths`: reached through the
 * node_modules symlink, tsc sometimes took the api's files for a library's and emitted none of them.
 */
function emitDeclarations() {
  rmSync(emitDir, { recursive: true, force: true });
  // TypeScript 7's tsc (native): the same compiler that type-checks the workspace.
  const tsc = spawnSync(process.execPath, [tscBin, "-p", "tsconfig.declarations.json"], {
    cwd: clientDir,
    stdio: "inherit",
  });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.declarations.json failed (${tsc.status})`);
}

async function bundleDeclarations() {
  const bundle = await rollup({
    input: join(emitDir, "packages", "client", "src", "index.d.ts"),
    // Every package but @parley/api and @parley/core stays an import; the unused ones (drizzle-orm,
    // lucia, ...: the server side) vanish with the declarations that used them, and checkDeclarations
    // refuses whatever is left that the package does not depend on.
    external: (id) => !id.startsWith(".") && !id.startsWith("/") && !workspaceEntries.has(id),
    plugins: [
      {
        name: "parley-workspace-declarations",
        resolveId(source, importer) {
          const workspaceEntry = workspaceEntries.get(source);
          if (workspaceEntry) return workspaceEntry;
          // The workspace imports with .ts extensions; tsc keeps them in what it emits.
          if (importer && source.startsWith(".") && source.endsWith(".ts") && !source.endsWith(".d.ts")) {
            return join(dirname(importer), source.replace(/\.ts$/, ".d.ts"));
          }
          return null;
        },
        transform(code, id) {
          return id === join(apiDeclarations, "root.d.ts") ? eraseServerOnlyTypes(code) : null;
        },
      },
      dts({ respectExternal: false }),
      {
        // After dts(), which makes every module's statements count. An api or core module none of
        // whose declarations the client uses adds nothing, not even its `declare module`
        // augmentations (session-module's for lucia: a client has no lucia).
        name: "parley-api-without-side-effects",
        options(options) {
          const moduleSideEffects = (id, external) =>
            !external &&
            !id.startsWith(apiDeclarations) &&
            !id.startsWith(coreDeclarations) &&
            !id.startsWith(dbDeclarations);
          return { ...options, treeshake: { ...options.treeshake, moduleSideEffects } };
        },
      },
    ],
    onwarn(warning) {
      throw new Error(`rollup: ${warning.message}`);
    },
  });
  await bundle.write({ file: join(distDir, "index.d.ts"), format: "es" });
  await bundle.close();
}

/** Fails the build when the declarations would need anything an installing project lacks. */
function checkDeclarations() {
  const code = readFileSync(join(distDir, "index.d.ts"), "utf8");
  const specifiers = [...code.matchAll(/(?:from\s+|import\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
  const foreign = specifiers.filter((specifier) => !allowedImports.has(specifier));
  if (foreign.length > 0) {
    throw new Error(`dist/index.d.ts imports what the package does not provide: ${foreign.join(", ")}`);
  }
}

rmSync(distDir, { recursive: true, force: true });
await build({
  absWorkingDir: clientDir,
  entryPoints: ["src/index.ts"],
  outdir: "dist",
  format: "esm",
  platform: "neutral",
  target: "es2022",
  sourcemap: true,
  logLevel: "warning",
});
emitDeclarations();
await bundleDeclarations();
checkDeclarations();
