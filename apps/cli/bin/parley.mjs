#!/usr/bin/env node
// Runs the bundle in dist/, built first when it is missing or older than the sources (see
// build.mjs): compiling the TypeScript on every run cost 0.6-1 s per command.
import module from "node:module";
import { ensureBuilt } from "../build.mjs";

await ensureBuilt();
// Node 22.1+: V8 keeps the bundle's compiled code on disk, so later runs parse less.
module.enableCompileCache?.();
await import("../dist/main.mjs");
