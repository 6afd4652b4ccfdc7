// A Stryker reporter that appends each mutant's result to a JSON-lines file the moment it is
// known (MUTATION_PROGRESS_FILE, set by run.mjs): a long run stopped early still leaves every
// result so far, which Stryker's own reporters write only at the end.
import { appendFileSync } from "node:fs";

class ProgressReporter {
  static inject = [];
  onMutantTested(result) {
    const file = process.env.MUTATION_PROGRESS_FILE;
    if (!file) return;
    const { id, mutatorName, replacement, status, statusReason, location } = result;
    const line = { id, mutatorName, replacement, status, statusReason, line: location.start.line };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }
}

// What @stryker-mutator/api's declareClassPlugin(PluginKind.Reporter, …) returns.
export const strykerPlugins = [
  { kind: "Reporter", name: "progress-file", injectableClass: ProgressReporter },
];
