// The server's bundle (dist/main.cjs) run through V8's code cache, on every Node version: a start
// reads the code the previous start compiled instead of parsing 5 MB of JavaScript and compiling
// every function it calls again (about 100 ms of CPU on Node 20, a third of a start). Node 22's
// module.enableCompileCache does this for ES modules; Node 20 has no cache for them, so the server's
// bundle is CommonJS, run by a vm.Script given `cachedData` (the technique of v8-compile-cache).
// The file is already CommonJS's module function, `(function (exports, require, module, ...) {...})`:
// V8 compiles it as read, rather than a wrapped copy, 5 MB more of old space at every start.
//
// V8 checks a cache against its own version, its flags and the source's length only, so a cache
// belongs to one build: its file name holds the build id that build.mjs writes in the bundle's first
// line, and a cache of another build is never read. Two caches, the better one read first:
//   main.cjs.<id>.started.v8cache    written by the first start once it is listening: every function
//                                    that start compiled
//   main.cjs.<id>.compiled.v8cache   written by build.mjs from compiling alone: the parse, not the rest
// A missing, rejected or unwritable cache costs time, never correctness: V8 compiles the source.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import vm from "node:vm";

const buildIdPrefix = "// parley-build ";

/**
 * What build.mjs gives esbuild to put around the bundle: the build's id on the first line, then
 * CommonJS's module function around the code. `prelude` starts the function's body.
 */
export function bundleWrapper(id, prelude) {
  return {
    banner: `${buildIdPrefix}${id}\n(function (exports, require, module, __filename, __dirname) {"use strict";\n${prelude}`,
    footer: "})",
  };
}

function buildIdOf(source) {
  const end = source.indexOf("\n");
  const first = source.slice(0, end);
  if (end < 0 || !first.startsWith(buildIdPrefix))
    throw new Error("the bundle has no build id on its first line");
  return first.slice(buildIdPrefix.length);
}

const cachePath = (file, id, kind) => `${file}.${id}.${kind}.v8cache`;

/** The bundle is ASCII (build.mjs: esbuild's `charset: "ascii"`): read as Latin-1, with no UTF-8 decoding. */
const readSource = (file) => readFileSync(file, "latin1");

function readBuildId(file) {
  try {
    return buildIdOf(readSource(file).slice(0, 200));
  } catch {
    return undefined;
  }
}

function compile(file, source, cachedData) {
  return new vm.Script(source, { filename: file, cachedData });
}

function readCache(path) {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Best effort, written whole or not at all: a half-written cache would be rejected, but costs a start. */
function writeCache(path, data) {
  const partial = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(partial, data);
    renameSync(partial, path);
  } catch {
    rmSync(partial, { force: true });
  }
}

/**
 * build.mjs: the cache of compiling alone, so that even the first start after a build skips the parse.
 * `runsAt` is where the bundle will be run from: V8 keeps the file name in the cache, and stack traces
 * (and their source maps) would name the build's temporary directory.
 */
export function writeCompiledCache(file, runsAt) {
  const source = readSource(file);
  writeCache(cachePath(file, buildIdOf(source), "compiled"), compile(runsAt, source).createCachedData());
}

/**
 * Runs the CommonJS bundle at `file` as Node's require would, through the best cache there is for its
 * build. The bundle may export `started`, a promise settled once it is serving: then, unless this
 * start read the started cache, it writes one, if `file` is still the build it ran (a rebuild may have
 * replaced dist/ meanwhile). Returns how the cache was used.
 */
export function runCachedBundle(file) {
  const source = readSource(file);
  const id = buildIdOf(source);
  const started = cachePath(file, id, "started");
  let kind = "started";
  let cachedData = readCache(started);
  if (!cachedData) {
    kind = "compiled";
    cachedData = readCache(cachePath(file, id, kind));
  }
  const script = compile(file, source, cachedData);
  const used = cachedData && !script.cachedDataRejected ? kind : "none";
  // Megabytes of external memory, which would count toward V8's next collection.
  cachedData = undefined;
  const module = { exports: {} };
  script
    .runInThisContext()
    .call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  if (used !== "started") {
    Promise.resolve(module.exports.started).then(
      () => {
        if (readBuildId(file) === id) writeCache(started, script.createCachedData());
      },
      () => {},
    );
  }
  return used;
}
