import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // @parley/testing's setup: one throwaway PostgreSQL for the run (or DATABASE_URL); then the
    // CLI's and the server's bundles, built once here rather than by the first test's `parley`.
    globalSetup: ["@parley/testing/global-setup", "test/global-setup.ts"],
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Two files at once on a 2-core machine (vitest's default is a worker fewer than the cores):
    // the CLI's tests mostly wait on the processes they run.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
