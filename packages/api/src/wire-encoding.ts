import superjson from "superjson";

/**
 * Fan-out without re-encoding. tRPC's ws adapter serialises (superjson) and stringifies every
 * event once per subscriber: with 500 subscribers, 500 identical walks of the same object. Room
 * events are plain JSON by construction and every subscriber of a room receives the same object,
 * so they are marked here, superjson is skipped for them, and their JSON text is computed once
 * and spliced into each subscriber's envelope. The bytes on the wire are what tRPC would send:
 * wsLink clients see no difference.
 */
const plainJson = new WeakSet<object>();
const encoded = new WeakMap<object, string>();

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

interface DataMessage {
  id?: unknown;
  jsonrpc?: unknown;
  result?: { type?: unknown; id?: unknown; data?: { json?: unknown } };
}

/** The ws adapter's encoder: JSON, with a plain event's text reused across subscribers. */
export const wireEncoder = {
  encode(message: unknown): string {
    const m = message as DataMessage;
    const json = m.result?.type === "data" ? m.result.data?.json : undefined;
    if (
      !isTrackedPlain(json) ||
      (m.id !== undefined && typeof m.id !== "string" && typeof m.id !== "number")
    ) {
      return JSON.stringify(message);
    }
    let text = encoded.get(json.data);
    if (text === undefined) {
      text = JSON.stringify(json.data);
      encoded.set(json.data, text);
    }
    const trackedId = JSON.stringify(json.id);
    const jsonrpc = m.jsonrpc === "2.0" ? `,"jsonrpc":"2.0"` : "";
    const resultId = m.result?.id === undefined ? "" : `,"id":${JSON.stringify(m.result.id)}`;
    return `{"id":${JSON.stringify(m.id ?? null)}${jsonrpc},"result":{"type":"data"${resultId},"data":{"json":{"id":${trackedId},"data":${text}}}}}`;
  },
  decode(data: string | ArrayBuffer | Uint8Array): unknown {
    if (typeof data !== "string") throw new Error("JSON uses text frames");
    return JSON.parse(data);
  },
};
