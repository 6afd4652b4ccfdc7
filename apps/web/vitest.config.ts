import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // @parley/testing's setup: one throwaway PostgreSQL for the run (or DATABASE_URL); each file
    // makes a database of its own on it.
    globalSetup: ["@parley/testing/global-setup"],
    include: ["test/**/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Each browser file runs a server process and Chromium, two files at a time: one at a time
    // left a fifth of two cores idle while a file waited on its page, its server or PostgreSQL
    // (vmstat: 27% idle, the suite 218 s; two at a time 4% idle, 157-162 s, on a 2-core machine).
    fileParallelism: true,
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // A worker runs its files one after another in one process: playwright-core, the client and
    // the test support are imported once per worker, not once per file (39 s of the suite's import
    // time over 18 files). Each browser file starts its own server and Chromium.
    isolate: false,
  },
});
