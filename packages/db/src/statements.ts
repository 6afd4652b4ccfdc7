import { type SQL, sql } from "drizzle-orm";
import type pg from "pg";
import type { Queryable } from "./db-handle.ts";

/**
 * One fixed SQL text run on the hot paths (session check, history page, send) without Drizzle's
 * query builder, which cost more CPU per request than the rest of the request together. On a
 * pg Pool it is a named prepared statement (parsed and planned once per connection); on PGlite
 * a plain parameterised query; inside a Drizzle transaction it goes through `tx.execute`.
 *
 * Rows come with the driver's default parsing, which differs between drivers for timestamps and
 * int8: select only text, boolean, int4 and json columns (cast timestamps `::text`, build
 * objects with json_build_object), so every driver returns the same values.
 */
export interface Statement<Row> {
  readonly name: string;
  readonly text: string;
  run(db: Queryable, values: readonly unknown[]): Promise<Row[]>;
}

interface QueryClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

function clientOf(db: Queryable): unknown {
  return (db as { $client?: unknown }).$client;
}

// Duck-typed, not `instanceof pg.Pool`: the embedded (PGlite) mode never loads pg.
function isPgPool(client: unknown): client is pg.Pool {
  const c = client as Partial<pg.Pool> | null | undefined;
  return typeof c?.query === "function" && typeof c.connect === "function" && typeof c.idleCount === "number";
}

/** The SQL text with `$n` placeholders as a Drizzle SQL object, for `execute` in a transaction. */
function asSql(text: string, values: readonly unknown[]): SQL {
  const parts = text.split(/\$(\d+)/);
  const query = sql.empty();
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) query.append(sql.raw(parts[i] ?? ""));
    else query.append(sql`${values[Number(parts[i]) - 1] ?? null}`);
  }
  return query;
}

const defined: Statement<unknown>[] = [];

/** Every statement defined so far: what a new connection warms (pool-warmup.ts). */
export function definedStatements(): readonly Statement<unknown>[] {
  return defined;
}

export function defineStatement<Row>(name: string, text: string): Statement<Row> {
  const statement: Statement<Row> = {
    name,
    text,
    async run(db, values) {
      const client = clientOf(db);
      if (isPgPool(client)) {
        const result = await client.query({ name, text, values: values as unknown[] });
        return result.rows as Row[];
      }
      if (client && typeof (client as QueryClient).query === "function") {
        const result = await (client as QueryClient).query(text, values as unknown[]);
        return result.rows as Row[];
      }
      const result = (await db.execute(asSql(text, values))) as unknown as { rows: Row[] };
      return result.rows;
    },
  };
  defined.push(statement);
  return statement;
}
