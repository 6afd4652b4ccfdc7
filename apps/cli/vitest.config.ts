import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The server's setup: one throwaway PostgreSQL for the run (or DATABASE_URL); then the
    // CLI's and the server's bundles, built once here rather than by the first test's `parley`.
    globalSetup: ["../server/test/global-setup.ts", "test/global-setup.ts"],
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
