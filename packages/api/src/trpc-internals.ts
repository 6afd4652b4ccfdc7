import type { AnyTRPCRouter, TRPCProcedureType } from "@trpc/server";
import type { ProcedureMeta } from "./trpc.ts";

/*
 * The one file that reads tRPC's private `_def` (tRPC 11 offers no public way to list a
 * router's procedures, their meta and inputs, nor its transformer and error formatter). Both
 * the docs generator and the server's realtime path (apps/server/src/realtime) need them, and
 * a package cannot import an app, so it lives here. apps/server/test/realtime-containment.test.ts
 * fails when another source file reads `_def`.
 */

/** What the code outside this file may know of a procedure. */
export interface ProcedureEntry {
  /** Dotted, as on the wire: `chat.events`. */
  path: string;
  type: TRPCProcedureType;
  meta: ProcedureMeta;
  /** The input parsers, outermost first (zod schemas here). */
  inputs: readonly unknown[];
  /** The names of its middleware functions, outermost first (`rateLimited`, `isAuthed`…). */
  middlewareNames: readonly string[];
}

interface ProcedureDef {
  type: TRPCProcedureType;
  meta?: ProcedureMeta;
  inputs?: unknown[];
  middlewares?: { name: string }[];
}

/**
 * Every procedure of the router (lazy routers not yet loaded aside), sorted by path, by UTF-16
 * code unit: the server calls this at start, and a first `localeCompare` loads ICU's collation
 * data (13-20 ms of a start). Today's paths sort the same both ways.
 */
export function procedureEntries(router: AnyTRPCRouter): ProcedureEntry[] {
  const procedures = router._def.procedures as Record<string, { _def: ProcedureDef }>;
  return Object.entries(procedures)
    .map(([path, procedure]) => ({
      path,
      type: procedure._def.type,
      meta: procedure._def.meta ?? {},
      inputs: procedure._def.inputs ?? [],
      middlewareNames: (procedure._def.middlewares ?? []).map((middleware) => middleware.name),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The router's root config (transformer, error formatter): what tRPC's own adapters pass to
 * `getTRPCErrorShape` and `transformTRPCResponse`, which the push path calls the same way.
 */
export function routerConfig<TRouter extends AnyTRPCRouter>(router: TRouter): TRouter["_def"]["_config"] {
  return router._def._config;
}

/** What `withProcedureDefs` may change of a procedure: its meta, and its output parser for documents. */
export interface ProcedureDefOverride {
  meta?: ProcedureMeta;
  output?: unknown;
}

/**
 * The router seen by a reader of procedure definitions (trpc-to-openapi) with some definitions
 * changed: a shallow copy whose `_def.procedures` are stand-ins carrying the changed `_def`.
 * Calls still go to the real procedures: the copy keeps the router's own `createCaller`, and
 * the original router is left as it was.
 */
export function withProcedureDefs<TRouter extends AnyTRPCRouter>(
  router: TRouter,
  override: (entry: ProcedureEntry, output: unknown) => ProcedureDefOverride | null,
): TRouter {
  const procedures = router._def.procedures as Record<string, { _def: ProcedureDef & { output?: unknown } }>;
  const entries = new Map(procedureEntries(router).map((entry) => [entry.path, entry]));
  const replaced: Record<string, unknown> = {};
  for (const [path, procedure] of Object.entries(procedures)) {
    const entry = entries.get(path);
    const change = entry ? override(entry, procedure._def.output) : null;
    replaced[path] = change ? Object.assign(() => {}, { _def: { ...procedure._def, ...change } }) : procedure;
  }
  return { ...router, _def: { ...router._def, procedures: replaced } };
}
