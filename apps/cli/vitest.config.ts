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
  },
});
