/**
 * Outputs without superjson's walk. Room events and the hot paths' outputs (history, send) are
 * plain JSON by construction: they are marked where they are made, and their superjson form is
 * simply `{ json: value }`. The mark is the domain's (it makes the values); the API's wire
 * transformer (packages/api/src/wire-encoding.ts) reads it.
 */
const marked = new WeakSet<object>();

/** Read-only outside this module: only markPlainJson adds. */
export const plainJson: Pick<WeakSet<object>, "has"> = marked;

/** Declares `value` plain JSON (no Date, Map, undefined…), never mutated afterwards. */
export function markPlainJson<T extends object>(value: T): T {
  marked.add(value);
  return value;
}
