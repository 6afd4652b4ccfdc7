import { fileURLToPath } from "node:url";
import { mergeConfig } from "vitest/config";
import server from "../../apps/server/vitest.config.ts";

const serverRoot = fileURLToPath(new URL("../../apps/server", import.meta.url));

// Stryker runs from the repository root (it mutates files in apps/ and packages/ alike); the
// server's tests expect apps/server as their root, for the global setup that starts the
// throwaway PostgreSQL. `include` is narrowed to the module's test files (run.mjs sets
// MUTATION_TEST_FILES): Stryker runs a static mutant (one hit while a file loads) through every
// test file the config includes, which would otherwise be the whole server suite.
const testFiles = (process.env.MUTATION_TEST_FILES ?? "").split(",").filter(Boolean);

export default mergeConfig(server, {
  root: serverRoot,
  test: testFiles.length > 0 ? { include: testFiles } : {},
});
