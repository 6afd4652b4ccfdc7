import type pg from "pg";
import type { PoolWarmup } from "./db-handle.ts";
import { definedStatements } from "./statements.ts";

/**
 * A new PostgreSQL backend pays for its first hot statement: it loads every relation, index and
 * function the statement touches into its own caches, plans it, and at the first insert loads the
 * search index's text search dictionary. Measured in `pnpm bench` workload 8 (PostgreSQL's log,
 * log_min_duration_statement = 0, 2026-12-02): the send statement's first execution on a backend
 * took 37 ms (median of 39; 72 at p90), later ones 0.42 ms. A pool opens its connections as load
 * rises, so those first executions landed inside bursts, every subscriber of the room waiting
 * behind them: two instances' many rooms had a p99 of 280-575 ms. Warmed, the first execution
 * took 4-9 ms (medians of two runs) and that p99 fell to 27.5 ms in one run, 113-291 over three
 * (docs/scaling.md says what remains).
 *
 * The warm-up plans every hot statement (definedStatements: the session check, the send, the
 * history pages; those of the modules loaded so far, which in a listening server is all of them)
 * as a generic plan under EXPLAIN, which opens every relation and index it names
 * without running it, and builds a tsvector. Best effort: a statement that cannot be prepared
 * (a schema older than the code, while migrations run) is skipped.
 */
async function warmBackend(client: pg.PoolClient): Promise<string[]> {
  const failed: string[] = [];
  // The dictionary of the search index on messages.content (schema.ts).
  await client.query("select to_tsvector('english', 'warm')").catch(() => failed.push("to_tsvector"));
  for (const [i, statement] of definedStatements().entries()) {
    const name = `parley_warm_${i}`;
    const params = Math.max(0, ...Array.from(statement.text.matchAll(/\$(\d+)/g), (m) => Number(m[1])));
    const args = params > 0 ? `(${Array(params).fill("null").join(", ")})` : "";
    // One simple query, one implicit transaction: a part that fails rolls the setting back too.
    await client
      .query(
        `set plan_cache_mode = force_generic_plan; prepare ${name} as ${statement.text}; ` +
          `explain execute ${name}${args}; deallocate ${name}; reset plan_cache_mode`,
      )
      .catch(async () => {
        failed.push(statement.name);
        await client.query(`deallocate ${name}`).catch(() => {});
      });
  }
  return failed;
}

/**
 * Opens `size` connections (the pool's max, which it then keeps: createDb's `min`) and warms each,
 * after the server is listening: bursts then find warm backends instead of opening cold ones.
 * Connections the pool already has are warmed too. Holds each until all are open: releasing one
 * would let the pool hand it out again instead of opening the next.
 */
export async function warmPool(pool: pg.Pool, size: number): Promise<PoolWarmup> {
  const held: pg.PoolClient[] = [];
  const failed = new Set<string>();
  try {
    for (let i = 0; i < size; i++) {
      const client = await pool.connect();
      held.push(client);
      for (const name of await warmBackend(client)) failed.add(name);
    }
  } finally {
    for (const client of held) client.release();
  }
  return { connections: held.length, failed: [...failed] };
}
