import type { TestProject } from "vitest/node";
import { startPgCluster } from "./pg-cluster.ts";

/**
 * Provides `databaseUrl` (typed in fresh-database.ts) to the test files (`inject("databaseUrl")`): DATABASE_URL when it is set,
 * else a throwaway PostgreSQL cluster started here and destroyed after the run.
 */
export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL;
  if (external) {
    project.provide("databaseUrl", external);
    return;
  }
  const started = Date.now();
  const cluster = await startPgCluster({
    log: process.env.TEST_PG_LOG ? (line) => console.log(`[pg] ${line}`) : undefined,
  });
  console.log(`[pg] throwaway PostgreSQL on port ${cluster.port}, up in ${Date.now() - started} ms`);
  project.provide("databaseUrl", cluster.url);
  return async () => {
    await cluster.destroy();
  };
}
