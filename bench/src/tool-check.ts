import { execFileSync } from "node:child_process";

/** A command that must succeed for a mode to run, and the one line to print when it does not. */
export interface ToolCheck {
  command: string;
  args: string[];
  missing: string;
}

/**
 * The first failing check's line, or null when every check passes: run before PostgreSQL and the
 * bundles, so that a missing tool is one line, not a stack half a minute in.
 */
export function firstMissing(checks: ToolCheck[]): string | null {
  for (const { command, args, missing } of checks) {
    try {
      execFileSync(command, args, { stdio: "ignore" });
    } catch {
      return missing;
    }
  }
  return null;
}
