import superjson from "superjson";

/**
 * Outputs without superjson's walk. Room events and the hot paths' outputs (history, send) are
 * plain JSON by construction: they are marked where they are made, and their superjson form is
 * simply `{ json: value }`. The room fan-out (apps/server/src/realtime/push-subscriptions.ts) serialises
 * each event once this way for all of a room's subscribers.
 */
const plainJson = new WeakSet<object>();

/** Declares `value` plain JSON (no Date, Map, undefined…), never mutated afterwards. */
export function markPlainJson<T extends object>(value: T): T {
  plainJson.add(value);
  return value;
}

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
