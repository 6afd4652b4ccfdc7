import { markPlainJson, plainJson } from "@parley/core";
import superjson from "superjson";

/** The domain marks values plain JSON where it makes them (@parley/core plain-json.ts). */
export { markPlainJson };

function isTrackedPlain(value: unknown): value is { id: string; data: object } {
  if (typeof value !== "object" || value === null) return false;
  const { id, data } = value as { id?: unknown; data?: unknown };
  return typeof id === "string" && typeof data === "object" && data !== null && plainJson.has(data);
}

function isPlain(value: unknown): value is object {
  return typeof value === "object" && value !== null && plainJson.has(value);
}

/**
 * superjson, except for values marked plain (a procedure's output built as plain JSON, or a
 * tracked plain event), which need no walk: `{ json }` is their superjson form.
 */
export const wireTransformer = {
  input: superjson,
  output: {
    serialize(value: unknown) {
      return isPlain(value) || isTrackedPlain(value) ? { json: value } : superjson.serialize(value);
    },
    deserialize: superjson.deserialize,
  },
};
