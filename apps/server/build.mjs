// The production build of the server: `node build.mjs` (`pnpm build`) builds apps/server/dist when
// its inputs changed since the last build (`--force`: always); start.mjs calls ensureBuilt() itself,
// so `pnpm start` never runs a stale bundle.
//
// dist/ holds
//   main.cjs                                       the server: one file, CommonJS's module function,
//                                                  that start.mjs runs through V8's code cache
//                                                  (see cached-bundle.mjs)
//   main.cjs.<build id>.*.v8cache                  that cache: from this build, then from the first start
//   vendor/*.cjs                                   packages main.cjs loads only off the start path
//                                                  (see vendorPackages), outside the file every start reads
//   worker-main.mjs, admin-create.mjs              the other entries, bundled by esbuild with their
//                                                  shared chunks
// Node loads a few files instead of ~1,500 modules transpiled by tsx at every start.
//   drizzle/                                       the SQL migrations (migrate() looks beside itself)
//   pglite-template/                               a PGlite data directory through initdb and the
//                                                  migrations: a new DATA_DIR starts as a copy
//   build-info.json                                the fingerprint of the inputs of this build
//
// Not bundled (resolved from apps/server/node_modules at run time): @node-rs/argon2 and sharp (native
// addons; sharp is loaded only by the first upload of an image),
// @electric-sql/pglite (it loads its .wasm and .data files beside its own modules) and
// pg-native (pg's optional native binding, never installed here).
import { createHash, randomUUID } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureFresh, isMainScript, nodeBundleOptions, readJson, runNode } from "@parley/on-demand-build";
import { bundleWrapper, writeCompiledCache } from "./cached-bundle.mjs";

const serverDir = dirname(fileURLToPath(import.meta.url));
const root = join(serverDir, "..", "..");
const distDir = join(serverDir, "dist");
// The lock and the directories of a build in progress (see ensureFresh).
const workDir = join(serverDir, "node_modules", ".cache", "parley-build");
/** The ES module entries; the server (main) is built on its own as CommonJS. */
const entries = ["worker-main", "admin-create", "make-pglite-template"];

/** What the bundle is made of: a change to any of these (or to the dependencies) means a rebuild. */
const bundleInputs = [
  "apps/server/src",
  "apps/server/build.mjs",
  "apps/server/cached-bundle.mjs",
  "tooling/on-demand-build/index.mjs",
  "apps/server/package.json",
  "packages/api/src",
  "packages/api/package.json",
  "packages/core/src",
  "packages/core/package.json",
  "packages/db/src",
  "packages/db/drizzle",
  "packages/db/package.json",
  "pnpm-lock.yaml",
];
/** What the PGlite template is made of: its initdb (the PGlite version, in the lockfile) and migrations. */
const templateInputs = [
  "packages/db/drizzle",
  "packages/db/src/pglite-template.ts",
  "packages/db/src/pglite-template-build.ts",
  "pnpm-lock.yaml",
];
/** The same by content, for the machine's cache (see machineCacheEntry); PGlite's version is added. */
const templateSources = [
  "packages/db/drizzle",
  "packages/db/src/pglite-template.ts",
  "packages/db/src/pglite-template-build.ts",
  "packages/db/src/create-db.ts",
  "packages/db/src/db-handle.ts",
  "packages/db/src/migrate.ts",
];

/**
 * `path` relative to the root, joined with "/" by hand: path.join and path.relative were half of
 * the check's time, paid at every start.
 */
function listFiles(path, out) {
  const full = `${root}/${path}`;
  const stat = statSync(full, { throwIfNoEntry: false });
  if (!stat) return out;
  if (stat.isDirectory()) {
    for (const name of readdirSync(full).sort()) {
      if (name === "node_modules" || name.endsWith(".test.ts")) continue;
      listFiles(`${path}/${name}`, out);
    }
  } else {
    out.push(`${path}:${stat.size}:${Math.trunc(stat.mtimeMs)}`);
  }
  return out;
}

/** Paths, sizes and modification times of the inputs: a few milliseconds, no file read. */
function fingerprint(inputs) {
  const files = [process.version];
  for (const input of inputs) listFiles(input, files);
  return createHash("sha256").update(files.join("\n")).digest("hex");
}

/** Whether dist/ is missing or older than its inputs. */
export function isStale() {
  const info = readJson(join(distDir, "build-info.json"));
  return info?.bundle !== fingerprint(bundleInputs) || !existsSync(join(distDir, "main.cjs"));
}

function log(line) {
  process.stderr.write(`[build] ${line}\n`);
}

/**
 * Where this machine keeps the template for what it is made of (PGlite's version, the migrations,
 * the code that makes it), by content: every clone and worktree with the same migrations reuses
 * one template, as they reuse pnpm's package store, instead of spending PGlite's initdb (10-30 s
 * on a busy 2-core machine) once per checkout. undefined without a home directory to cache in.
 */
function machineCacheEntry() {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), ".cache") : "");
  if (!base) return undefined;
  const hash = createHash("sha256");
  const pglitePackage = join(
    dirname(createRequire(join(serverDir, "package.json")).resolve("@electric-sql/pglite")),
    "..",
    "package.json",
  );
  hash.update(`pglite ${JSON.parse(readFileSync(pglitePackage, "utf8")).version}\n`);
  const files = [];
  for (const input of templateSources) listFiles(input, files);
  for (const file of files) {
    const path = file.slice(0, file.indexOf(":"));
    hash.update(`${path}\n`).update(readFileSync(join(root, path)));
  }
  return join(base, "parley", "pglite-template", hash.digest("hex").slice(0, 16));
}

function copyFromMachineCache(entry, template) {
  if (!existsSync(join(entry, "pgdata", "PG_VERSION"))) return false;
  try {
    cpSync(entry, template, { recursive: true });
    // Its age is its last use: see storeInMachineCache.
    const now = new Date();
    utimesSync(entry, now, now);
    return true;
  } catch {
    rmSync(template, { recursive: true, force: true });
    return false;
  }
}

/** Best effort: a machine whose cache cannot be written still has the template in dist/. */
function storeInMachineCache(template, entry) {
  const partial = `${entry}.partial-${process.pid}`;
  try {
    // Entries unused for a month (other migrations) are 40 MB each that nobody will read again;
    // newer ones may be another checkout's, in use.
    const parent = dirname(entry);
    mkdirSync(parent, { recursive: true });
    for (const name of readdirSync(parent)) {
      const path = join(parent, name);
      if (Date.now() - statSync(path).mtimeMs > 30 * 24 * 3600 * 1000)
        rmSync(path, { recursive: true, force: true });
    }
    cpSync(template, partial, { recursive: true });
    renameSync(partial, entry);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    log(`could not keep the PGlite template in ${entry}: ${error.message}`);
  }
}

/**
 * pg asks whether it runs on Cloudflare Workers when Node has no `navigator` (Node 20) by making
 * a fetch `Response`, which loads Node's fetch implementation (undici) at every start: 10-15 ms of
 * a cold start, for an answer that in Node is always no. The bundle answers it. A pg whose probe
 * reads differently fails the build here rather than quietly keeping the cost.
 */
const pgWithoutRuntimeProbe = {
  name: "pg-without-runtime-probe",
  setup(build) {
    build.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, ({ path }) => {
      const source = readFileSync(path, "utf8");
      const probe = "typeof Response === 'function'";
      if (!source.includes(probe)) throw new Error(`${path}: pg's runtime probe changed (see build.mjs)`);
      return { contents: source.replace(probe, "false"), loader: "js" };
    });
  },
};

/**
 * Packages the server loads only on a path that start does not take, kept out of main.cjs in files
 * of their own under dist/vendor/, required there on first use: every start reads main.cjs whole
 * (cached-bundle.mjs), and these were half of its 5.4 MB. The AWS SDK (S3_URL only), ioredis
 * (REDIS_URL only), nodemailer (the first email), file-type (the first upload) and iconv-lite's
 * encoding tables (loaded by iconv-lite itself at the first body in a charset other than UTF-8).
 * Each is self-contained: nothing of ours is in a vendor file, so no module of ours has two copies.
 */
const vendorPackages = /^(@aws-sdk\/client-s3|ioredis|nodemailer|file-type)$/;
const iconvEncodings = /[\\/]iconv-lite[\\/]lib[\\/]index\.js$/;

/** The vendor entries main.cjs requires: name → the module's path, filled while main.cjs is built. */
function lazyVendor(vendorEntries) {
  return {
    name: "lazy-vendor",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === "lazy-vendor") return undefined;
        let name;
        if (vendorPackages.test(args.path)) name = args.path.replace(/^@/, "").replace(/\//g, "-");
        else if (args.path === "../encodings" && iconvEncodings.test(args.importer)) {
          const version = JSON.parse(
            readFileSync(join(dirname(args.importer), "..", "package.json"), "utf8"),
          ).version;
          name = `iconv-lite-${version}-encodings`;
        } else return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: "lazy-vendor",
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        vendorEntries.set(name, resolved.path);
        // Relative to dist/main.cjs: the bundle's require is made for that file (cached-bundle.mjs).
        return { path: `./vendor/${name}.cjs`, external: true };
      });
    },
  };
}

async function build(next) {
  const started = performance.now();
  const { build: esbuild } = await import("esbuild");
  const shared = {
    absWorkingDir: serverDir,
    outdir: next,
    external: ["@node-rs/argon2", "@electric-sql/pglite", "pg-native", "sharp"],
    plugins: [pgWithoutRuntimeProbe],
  };
  const wrapper = bundleWrapper(
    randomUUID(),
    'const __parleyImportMetaUrl = require("node:url").pathToFileURL(__filename).href;',
  );
  const vendorEntries = new Map();
  await Promise.all([
    esbuild({
      ...nodeBundleOptions,
      ...shared,
      // Chunks beside the entries (nodeBundleOptions): migrate() finds ./drizzle relative to the
      // chunk it is in.
      entryPoints: entries.map((name) => `src/${name}.ts`),
    }),
    // One file, CommonJS: what a vm.Script with a code cache can run on Node 20 (cached-bundle.mjs).
    // Its dynamic imports stay lazy: esbuild evaluates an imported module at the import() only.
    esbuild({
      ...nodeBundleOptions,
      ...shared,
      entryPoints: ["src/main.ts"],
      plugins: [...shared.plugins, lazyVendor(vendorEntries)],
      splitting: false,
      format: "cjs",
      outExtension: { ".js": ".cjs" },
      // The build id, then CommonJS's module function around the code (cached-bundle.mjs).
      banner: { js: wrapper.banner },
      footer: { js: wrapper.footer },
      // Read as Latin-1 at every start (cached-bundle.mjs): no byte above 127.
      charset: "ascii",
      define: { "import.meta.url": "__parleyImportMetaUrl" },
      // Every import() becomes a require(): V8 keeps the host data of the process that made a code
      // cache, so an import() in cached code fails on Node 20 (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
      // The packages left outside are CommonJS or have a CommonJS build (PGlite's dist/index.cjs).
      supported: { "dynamic-import": false },
    }),
  ]);
  await esbuild({
    ...nodeBundleOptions,
    ...shared,
    outdir: join(next, "vendor"),
    entryPoints: Object.fromEntries(vendorEntries),
    splitting: false,
    format: "cjs",
    outExtension: { ".js": ".cjs" },
    banner: { js: 'const __parleyImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { "import.meta.url": "__parleyImportMetaUrl" },
    supported: { "dynamic-import": false },
  });
  writeCompiledCache(join(next, "main.cjs"), join(distDir, "main.cjs"));
  cpSync(join(root, "packages/db/drizzle"), join(next, "drizzle"), { recursive: true });
  log(`bundled in ${Math.round(performance.now() - started)} ms`);

  // The template takes seconds (PGlite's initdb): made again only when what it is made of changed.
  const templateKey = fingerprint(templateInputs);
  const previous = join(distDir, "pglite-template");
  if (readJson(join(distDir, "build-info.json"))?.template === templateKey && existsSync(previous)) {
    renameSync(previous, join(next, "pglite-template"));
  } else {
    const templateStarted = performance.now();
    const cached = machineCacheEntry();
    if (cached && copyFromMachineCache(cached, join(next, "pglite-template"))) {
      log(`PGlite template copied from ${cached} in ${Math.round(performance.now() - templateStarted)} ms`);
    } else {
      await runNode([join(next, "make-pglite-template.mjs"), join(next, "pglite-template")]);
      log(`PGlite template (initdb + migrations) in ${Math.round(performance.now() - templateStarted)} ms`);
      if (cached) storeInMachineCache(join(next, "pglite-template"), cached);
    }
  }
  writeFileSync(
    join(next, "build-info.json"),
    `${JSON.stringify({ bundle: fingerprint(bundleInputs), template: templateKey, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
}

/** Builds dist/ unless it is up to date with its inputs. */
export async function ensureBuilt({ force = false } = {}) {
  const started = performance.now();
  if (await ensureFresh({ distDir, workDir, isStale, build, force })) {
    log(`apps/server/dist ready in ${Math.round(performance.now() - started)} ms`);
  }
}

if (isMainScript(import.meta.url)) {
  await ensureBuilt({ force: process.argv.includes("--force") });
}
