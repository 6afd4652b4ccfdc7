import type { AnyTRPCRouter, TRPCProcedureType } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { z } from "zod";
import type { ProcedureMeta } from "./trpc.ts";
import { type ProcedureEntry, procedureEntries, withProcedureDefs } from "./trpc-internals.ts";

export type RestMethod = "GET" | "POST";

export interface RestDoor {
  method: RestMethod;
  /** Relative to the REST API's base (`/api/v1`): `/chat/rooms/list` for `chat.rooms.list`. */
  path: `/${string}`;
}

/**
 * The one rule that gives a procedure its REST door, so that a procedure added to the router has
 * one the day it is added: a query is a GET, a mutation a POST, at its dotted path with slashes.
 * A procedure's own `meta.openapi` (the forms, posted from plain HTML) takes precedence.
 * Subscriptions have none: a room's events are Server-Sent Events (apps/server/src/room-events-sse.ts).
 */
export function restDoorOf(entry: Pick<ProcedureEntry, "path" | "type" | "meta">): RestDoor | null {
  if (entry.type === "subscription") return null;
  const own = entry.meta.openapi;
  if (own) return { method: own.method === "GET" ? "GET" : "POST", path: own.path };
  return { method: restMethodOf(entry.type), path: `/${entry.path.replaceAll(".", "/")}` };
}

function restMethodOf(type: Exclude<TRPCProcedureType, "subscription">): RestMethod {
  return type === "query" ? "GET" : "POST";
}

/** Every query and mutation of the router with its REST door, sorted by procedure path. */
export function restDoors(router: AnyTRPCRouter): { procedure: string; door: RestDoor }[] {
  return procedureEntries(router).flatMap((entry) => {
    const door = restDoorOf(entry);
    return door ? [{ procedure: entry.path, door }] : [];
  });
}

// Procedures declare no output schema (their types are the contract for the TypeScript client):
// the document says "JSON" for their answers rather than guess a shape.
const anyJson = z.unknown().meta({ description: "The procedure's result, as JSON" });

/**
 * The router as trpc-to-openapi should see it for /api/v1: every query and mutation carries the
 * `meta.openapi` of its REST door (bearer auth unless anyone may call it), the calls going to
 * the same procedures, middleware and all.
 */
export function withRestDoors<TRouter extends AnyTRPCRouter>(router: TRouter): TRouter {
  return withProcedureDefs(router, (entry, output) => {
    const door = restDoorOf(entry);
    if (!door) return null;
    const openapi: NonNullable<OpenApiMeta["openapi"]> = entry.meta.openapi ?? {
      method: door.method,
      path: door.path,
      protect: entry.meta.access !== "anyone",
      tags: [tagOf(entry.path)],
      summary: entry.path,
      description: entry.meta.summary,
    };
    const meta: ProcedureMeta = { ...entry.meta, openapi: { ...openapi, enabled: true } };
    return { meta, output: output ?? anyJson };
  });
}

/** `chat.rooms.list` → `chat.rooms`: the procedures of one router file side by side. */
function tagOf(path: string): string {
  const segments = path.split(".");
  return segments.length > 2 ? segments.slice(0, 2).join(".") : (segments[0] ?? path);
}
