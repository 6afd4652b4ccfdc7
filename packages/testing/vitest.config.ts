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
    // A worker runs its files one after another in one process: PGlite, drizzle and the domain are
    // imported once per worker, not once per file (about 4 s of CPU each). Each file opens a
    // database of its own, so no state crosses from one file to the next.
    isolate: false,
  },
});
