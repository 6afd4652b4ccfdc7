#!/usr/bin/env node
// The CLI runs from its TypeScript source, like the server: tsx compiles it as it loads.
// Registered here (resolved next to this file) rather than with `node --import tsx`, which
// resolves tsx from the caller's working directory.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
