import axe from "axe-core";
import type { Page } from "playwright-core";

export type Impact = "minor" | "moderate" | "serious" | "critical";
const IMPACTS: Impact[] = ["critical", "serious", "moderate", "minor"];

export interface Violation {
  id: string;
  impact: Impact | "unknown";
  help: string;
  targets: string[];
}

export interface AxeReport {
  counts: Record<Impact, number>;
  violations: Violation[];
}

/**
 * Runs axe-core (the npm package's own source, injected: no CDN) over the page as it is now.
 * Counts are of violated rules by impact, as axe's own summary gives them; `targets` names the
 * offending elements so that a failure says where to look.
 */
export async function runAxe(page: Page): Promise<AxeReport> {
  // Evaluated through the DevTools protocol, not a <script> tag: the app's Content-Security-Policy
  // (script-src 'self') refuses inline scripts, and it stays on while axe checks the page.
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const engine = (window as unknown as { axe: typeof axe }).axe;
    const result = await engine.run(document, { resultTypes: ["violations"] });
    return result.violations.map(
      (v): Violation => ({
        id: v.id,
        impact: v.impact ?? "unknown",
        help: v.help,
        targets: v.nodes.map((node) => node.target.join(" ")),
      }),
    );
  });
  const counts: Record<Impact, number> = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  for (const violation of violations) {
    if (violation.impact !== "unknown") counts[violation.impact]++;
  }
  return { counts, violations };
}

/** "critical 0, serious 1, moderate 0, minor 0 (serious: listitem)", for a printed table. */
export function formatCounts(report: AxeReport): string {
  const counts = IMPACTS.map((impact) => `${impact} ${report.counts[impact]}`).join(", ");
  const rules = report.violations.map((v) => `${v.impact}: ${v.id}`).join("; ");
  return rules ? `${counts} (${rules})` : counts;
}
