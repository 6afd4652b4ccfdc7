import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Starts one throwaway PostgreSQL for the run (or uses DATABASE_URL) and provides its URL.
    globalSetup: ["@parley/testing/global-setup"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    fileParallelism: true,
    // vitest's default is a worker fewer than the cores: one on a 2-core machine, where a server
    // file keeps about 0.9 of a core busy (the rest is waiting on sockets, PostgreSQL and timers),
    // so the second core sat idle for half the run. The files are independent: each makes a
    // database of its own on the run's PostgreSQL, or starts its own.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    pool: "forks",
    // A worker runs its files one after another in one process, as one server process serves
    // REST, tRPC and sockets side by side: a file's module graph (drizzle, tRPC, zod, the server)
    // is imported once per worker instead of once per file (about 1.7 s of CPU each on Node 22,
    // 100 s of the suite's 350 on two cores), and state that one door leaves in a module another
    // door shares fails a test here: trpc-to-openapi's coercion of tRPC's own schemas did.
    isolate: false,
  },
});
