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
    // Each browser file runs a server process and Chromium: one at a time on a 2-core machine.
    fileParallelism: false,
  },
});
