import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgliteTemplate } from "@parley/db";
import type { TestProject } from "vitest/node";

/**
 * Global setup: one PGlite template (initdb and the migrations) for the run, provided as
 * `pgliteTemplate` for createMemoryDatabase. PGlite's initdb costs seconds of CPU; a copy of its
 * output opens in a fraction of one, so each test file no longer pays for it.
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "parley-test-template-"));
  const template = join(dir, "template");
  await createPgliteTemplate(template);
  project.provide("pgliteTemplate", template);
  return () => rmSync(dir, { recursive: true, force: true });
}
