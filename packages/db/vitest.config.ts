import { defineConfig } from "vitest/config";

// PGlite boots a WebAssembly PostgreSQL: seconds, not milliseconds, on a busy 2-core machine.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
