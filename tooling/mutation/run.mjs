// `pnpm test:mutation [module…]`: StrykerJS over one module at a time, with only that module's
// test files (see modules.mjs). Slow (minutes per module) and not part of CI.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Stryker } from "@stryker-mutator/core";
import { mutationModules } from "./modules.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
// A module may be narrowed to a line range, `room-fanout:1-200`, to split one module's run
// across processes.
const requested = process.argv.slice(2).map((arg) => {
  const [name = "", lines] = arg.split(":");
  return { name, lines, label: lines ? `${name}-${lines}` : name };
});
const unknown = requested.map(({ name }) => name).filter((name) => !(name in mutationModules));
if (unknown.length > 0) {
  console.error(
    `unknown module(s): ${unknown.join(", ")}; known: ${Object.keys(mutationModules).join(", ")}`,
  );
  process.exit(2);
}
const runs =
  requested.length > 0 ? requested : Object.keys(mutationModules).map((name) => ({ name, label: name }));
process.chdir(root);
mkdirSync("reports/mutation", { recursive: true });

const summary = [];
for (const { name, lines, label } of runs) {
  const { mutate, tests } = mutationModules[name];
  const progressFile = `reports/mutation/${label}.jsonl`;
  writeFileSync(progressFile, "");
  process.env.MUTATION_PROGRESS_FILE = progressFile;
  const started = Date.now();
  // Read by tooling/mutation/vitest.config.ts in Stryker's test runner processes.
  process.env.MUTATION_TEST_FILES = tests.map((file) => file.replace(/^apps\/server\//, "")).join(",");
  const results = await new Stryker({
    testRunner: "vitest",
    plugins: ["@stryker-mutator/vitest-runner", "./tooling/mutation/progress-reporter.mjs"],
    vitest: { configFile: "tooling/mutation/vitest.config.ts", related: false },
    mutate: [lines ? `${mutate}:${lines}` : mutate],
    testFiles: tests,
    // In place: the module's package links (apps/server/node_modules/@parley/api → packages/api)
    // keep pointing at the mutated file, which a sandbox copy of the repository would break.
    inPlace: true,
    concurrency: 1,
    coverageAnalysis: "perTest",
    // Added to 1.5 × the tests' own time: many push-path mutants hang a test, and a long grace
    // per hang made one module take over an hour on 2 cores.
    timeoutMS: 5_000,
    // Vitest compiles without type checks: no need for Stryker to add @ts-nocheck to every file,
    // which in place would rewrite the whole tree while it runs.
    disableTypeChecks: false,
    reporters: ["clear-text", "progress-append-only", "html", "json", "progress-file"],
    htmlReporter: { fileName: `reports/mutation/${label}.html` },
    jsonReporter: { fileName: `reports/mutation/${label}.json` },
    clearTextReporter: { allowColor: false, logTests: false },
    tempDirName: ".stryker-tmp",
    cleanTempDir: "always",
  }).runMutationTest();
  const count = (status) => results.filter((m) => m.status === status).length;
  const killed = count("Killed") + count("Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  const valid = killed + survived + noCoverage;
  summary.push({
    module: label,
    score: valid === 0 ? "n/a" : `${((100 * killed) / valid).toFixed(1)}%`,
    // Detected: by a failing assertion, or by a test left waiting (a frame that never comes).
    killed: count("Killed"),
    timedOut: count("Timeout"),
    survived,
    noCoverage,
    errors: count("CompileError") + count("RuntimeError"),
    seconds: Math.round((Date.now() - started) / 1000),
  });
}
console.table(summary);
writeFileSync("reports/mutation/summary.json", `${JSON.stringify(summary, null, 2)}\n`);
