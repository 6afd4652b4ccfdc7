import { cpSync, existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

// PGlite's initdb runs in WebAssembly and takes seconds (5 s on a small machine): most of a first
// start on a new data directory. A template is that initdb's output, made once (by the server's
// build), with the migrations applied: a new data directory starts as a copy of it. The copy is
// what initdb and migrate() would have written, so nothing differs afterwards; migrations newer
// than the template are applied at start as usual. Making one (createPgliteTemplate) is in
// pglite-template-build.ts: it opens a database, which create-db.ts does with this module's copy.

export const TEMPLATE_STAMP = "parley-template.json";

/** The installed PGlite's version: a template made by another one is not used. */
export function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  // .../@electric-sql/pglite/dist/index.cjs
  const packageJson = join(dirname(entry), "..", "package.json");
  return (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
}

function usableTemplate(template: string): boolean {
  try {
    if (!existsSync(join(template, "pgdata", "PG_VERSION"))) return false;
    const stamp = JSON.parse(readFileSync(join(template, TEMPLATE_STAMP), "utf8")) as { pglite?: string };
    return stamp.pglite === pgliteVersion();
  } catch {
    return false;
  }
}

/**
 * Fills `pgdata` from the template when it holds no database yet (and the template fits the
 * installed PGlite); does nothing otherwise, leaving initdb to PGlite. The caller holds the data
 * directory's lock. The copy goes to a temporary directory renamed into place, so an interrupted
 * copy never leaves a half-filled pgdata behind.
 */
export function copyPgliteTemplate(template: string, pgdata: string): boolean {
  if (existsSync(join(pgdata, "PG_VERSION")) || !usableTemplate(template)) return false;
  const partial = `${pgdata}.from-template-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  try {
    cpSync(join(template, "pgdata"), partial, { recursive: true });
    // Replaces an empty pgdata (rename(2) takes an empty directory's place); a non-empty one without
    // PG_VERSION is left alone (ENOTEMPTY) for PGlite to deal with as before.
    renameSync(partial, pgdata);
    return true;
  } catch {
    rmSync(partial, { recursive: true, force: true });
    return false;
  }
}
