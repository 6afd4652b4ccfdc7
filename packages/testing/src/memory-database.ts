import { createDb, type DbHandle, migrate } from "@parley/db";

export interface MemoryDatabase extends DbHandle, AsyncDisposable {}

/**
 * PGlite in memory with every migration applied: for service tests that call the domain directly,
 * beside the black-box suite that runs the server against PostgreSQL. One per test file (PGlite
 * takes seconds to start; the tests on it take milliseconds).
 */
export async function createMemoryDatabase(): Promise<MemoryDatabase> {
  const handle = await createDb({ memory: true });
  try {
    await migrate(handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return Object.assign(handle, { [Symbol.asyncDispose]: () => handle.close() });
}
