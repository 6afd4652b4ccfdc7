import { createConditionWaiter } from "./condition-waiter.ts";

/** One Server-Sent Event as the wire carries it: `id:`, `event:` (default "message"), `data:`. */
export interface ServerSentEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The body when the server answered with something other than an event stream (an error). */
  body: unknown;
  events: ServerSentEvent[];
  /** Comment lines (`: keep-alive`), counted. */
  comments: () => number;
  /** The `id` of the last event with one: what a client resumes from. */
  lastId(): string | undefined;
  /** Resolves once the server ended the stream (or the connection dropped). */
  ended(): Promise<void>;
  until(predicate: () => boolean): Promise<void>;
  close(): void;
}

/**
 * Opens `url` as an EventSource would (GET, `Accept: text/event-stream`), parsing the stream by
 * the WHATWG rules that matter here: fields per line, events at blank lines, comments counted.
 * Resolves once the response's headers arrived.
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const events: ServerSentEvent[] = [];
  let comments = 0;
  let finished = false;
  const { notify, until } = createConditionWaiter();
  const isStream = response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
  const body = isStream ? undefined : await response.json().catch(() => undefined);

  const read = async () => {
    if (!isStream || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    let current: ServerSentEvent = { id: undefined, event: "message", data: "" };
    let hasData = false;
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 1);
          if (line === "") {
            if (hasData) events.push(current);
            current = { id: undefined, event: "message", data: "" };
            hasData = false;
            notify();
          } else if (line.startsWith(":")) {
            comments++;
            notify();
          } else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") current.id = value;
            else if (field === "event") current.event = value;
            else if (field === "data") {
              current.data = hasData ? `${current.data}\n${value}` : value;
              hasData = true;
            }
          }
        }
      }
    } catch {
      // Aborted by close(), or the connection dropped (a killed server): the stream ended either way.
    } finally {
      finished = true;
      notify();
    }
  };
  void read();

  return {
    status: response.status,
    headers: response.headers,
    body,
    events,
    comments: () => comments,
    lastId: () => events.findLast((event) => event.id !== undefined)?.id,
    ended: () => until(() => finished || !isStream),
    until,
    close: () => abort.abort(),
  };
}
