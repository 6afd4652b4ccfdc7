import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Starts one throwaway PostgreSQL for the run (or uses DATABASE_URL) and provides its URL.
    globalSetup: ["@parley/testing/global-setup"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    fileParallelism: true,
    pool: "forks",
  },
});
