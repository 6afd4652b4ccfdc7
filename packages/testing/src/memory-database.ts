import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type DbHandle, migrate } from "@parley/db";
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PGlite template made once for the run (pglite-template-setup.ts), when the config has that setup. */
    pgliteTemplate?: string;
  }
}

export interface MemoryDatabase extends DbHandle, AsyncDisposable {}

/**
 * A PGlite database of the test file's own with every migration applied: for service tests that
 * call the domain directly, beside the black-box suite that runs the server against PostgreSQL.
 * With the run's template (pglite-template-setup.ts) it is a throwaway copy of it on disk, opened
 * as the server opens its data directory; without one, PGlite in memory through initdb, which
 * takes seconds. One per test file; the tests on it take milliseconds.
 */
export async function createMemoryDatabase(): Promise<MemoryDatabase> {
  const template = inject("pgliteTemplate");
  const dir = template ? mkdtempSync(join(tmpdir(), "parley-service-db-")) : undefined;
  const removeDir = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  let handle: DbHandle;
  try {
    handle = await createDb(dir ? { dataDir: dir, pgliteTemplate: template } : { memory: true });
  } catch (error) {
    removeDir();
    throw error;
  }
  const closeHandle = handle.close;
  const close = async () => {
    await closeHandle();
    removeDir();
  };
  try {
    await migrate(handle);
  } catch (error) {
    await close();
    throw error;
  }
  return Object.assign(handle, { close, [Symbol.asyncDispose]: close });
}
