import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // PGlite boots a WebAssembly PostgreSQL and migrates it: seconds on a busy 2-core machine, once
    // per file; each test after that takes milliseconds.
    hookTimeout: 60_000,
    pool: "forks",
  },
});
