import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // One PGlite template for the run: each service test file opens a copy of it instead of
    // running PGlite's initdb (seconds of CPU) itself.
    globalSetup: ["./src/pglite-template-setup.ts"],
    // A file's database opens in well under a second; the setup's initdb and migrations take
    // seconds on a busy 2-core machine.
    hookTimeout: 60_000,
    pool: "forks",
    // Two files at once on a 2-core machine (vitest's default is a worker fewer than the cores):
    // each file's PGlite keeps one core busy while it opens.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
