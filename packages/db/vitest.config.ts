import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// PGlite boots a WebAssembly PostgreSQL: seconds, not milliseconds, on a busy 2-core machine.
// Each file keeps one core busy with it; vitest's default (a worker fewer than the cores) would
// leave the second of two idle.
export default defineConfig({
  test: { testTimeout: 60_000, hookTimeout: 60_000, maxWorkers: Math.max(2, availableParallelism() - 1) },
});
