import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createDb } from "./create-db.ts";
import { migrate } from "./migrate.ts";
import { pgliteVersion, TEMPLATE_STAMP } from "./pglite-template.ts";

/**
 * Makes a template in `dir` (replaced if it exists): a PGlite data directory through initdb and
 * the current migrations, stamped with the PGlite version that made it.
 */
export async function createPgliteTemplate(dir: string): Promise<void> {
  const target = resolve(dir);
  const building = `${target}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const handle = await createDb({ dataDir: building });
  try {
    await migrate(handle);
    // A checkpoint: the copy starts with everything in the data files, nothing to replay.
    await handle.pglite?.exec("checkpoint");
  } finally {
    await handle.close();
  }
  writeFileSync(join(building, TEMPLATE_STAMP), `${JSON.stringify({ pglite: pgliteVersion() })}\n`);
  rmSync(target, { recursive: true, force: true });
  renameSync(building, target);
}
