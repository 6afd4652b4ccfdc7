import { openRawSocket, parseServerMessage, type RawSocket, type TrpcWsMessage } from "./raw-socket.ts";

export type ProcedureType = "query" | "mutation" | "subscription";

/** What one call came back with, on either transport. */
export interface CallOutcome {
  transport: "http" | "ws";
  /** HTTP status; for the WebSocket, the httpStatus tRPC put in the error (200 for a result). */
  status: number;
  /** tRPC's error code, "ok" for a result, or `closed <code>` when the server closed the socket instead. */
  code: string;
  message: string;
}

interface ErrorShape {
  message?: string;
  data?: { code?: string; httpStatus?: number };
}

function errorOf(body: unknown): ErrorShape | undefined {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const error = (body as { error: { json?: ErrorShape } & ErrorShape }).error;
  return error.json ?? error;
}

/**
 * One call over HTTP in tRPC's batch-less wire format, `body` being the transformer's envelope as
 * JSON text (undefined: no input): queries (and subscriptions, which HTTP refuses) as GET with
 * `?input=`, mutations as POST. Like a tool: no Origin, a bearer token when signed in.
 */
export async function callHttp(
  baseUrl: string,
  type: ProcedureType,
  path: string,
  body: string | undefined,
  token?: string,
): Promise<CallOutcome> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const get = type !== "mutation";
  const query = get && body !== undefined ? `?input=${encodeURIComponent(body)}` : "";
  const response = await fetch(`${baseUrl}/trpc/${path}${query}`, {
    method: get ? "GET" : "POST",
    headers: get ? headers : { ...headers, "content-type": "application/json" },
    body: get ? undefined : body,
  });
  const text = await response.text();
  // Subscriptions over HTTP answer 200 with an event stream carrying the error (tRPC with SSE off).
  const streamed = response.headers.get("content-type")?.startsWith("text/event-stream");
  const json = streamed ? (/^event: serialized-error\ndata: (.*)$/m.exec(text)?.[1] ?? "") : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  const error = errorOf(streamed ? { error: parsed } : parsed);
  return {
    transport: "http",
    status: streamed ? (error?.data?.httpStatus ?? 500) : response.status,
    code: error ? String(error.data?.code) : response.ok ? "ok" : `http ${response.status}`,
    message: error?.message ?? text.slice(0, 200),
  };
}

/**
 * A WebSocket carrying one call at a time, so an answer tRPC sends with `id: null` (the input
 * could not be decoded) belongs to the call in flight. Reopens itself after the server closed it.
 */
export class WsLane {
  #socket: RawSocket | undefined;
  #nextId = 1;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 15_000,
  ) {}

  async call(type: ProcedureType, path: string, body: string | undefined): Promise<CallOutcome> {
    const socket = await this.#open();
    const id = this.#nextId++;
    const params = `{"path":${JSON.stringify(path)}${body === undefined ? "" : `,"input":${body}`}}`;
    const frame = `{"id":${id},"method":${JSON.stringify(type)},"params":${params}}`;
    const reply = await new Promise<TrpcWsMessage | { closed: number } | { timedOut: true }>((resolve) => {
      const onMessage = (data: unknown) => {
        for (const message of parseServerMessage(data) ?? []) {
          if (message.id === id || message.id === null) {
            done();
            resolve(message);
            return;
          }
        }
      };
      const onClose = (code: number) => {
        done();
        resolve({ closed: code });
      };
      const timer = setTimeout(() => {
        done();
        resolve({ timedOut: true });
      }, this.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        socket.socket.off("message", onMessage);
        socket.socket.off("close", onClose);
      };
      socket.socket.on("message", onMessage);
      socket.socket.on("close", onClose);
      socket.sendRaw(frame);
    });
    if ("closed" in reply) {
      this.#socket = undefined;
      // 1009: the frame was over maxPayload; 4001: the call ended the socket's own session (logout).
      const status = reply.closed === 1009 ? 413 : reply.closed === 4001 ? 401 : 500;
      return { transport: "ws", status, code: `closed ${reply.closed}`, message: "" };
    }
    if ("timedOut" in reply) {
      return {
        transport: "ws",
        status: 504,
        code: "no answer",
        message: `no answer in ${this.timeoutMs} ms`,
      };
    }
    if (reply.error) {
      const data = reply.error.data as { code?: string; httpStatus?: number } | undefined;
      return {
        transport: "ws",
        status: data?.httpStatus ?? 500,
        code: String(data?.code),
        message: reply.error.message,
      };
    }
    if (type === "subscription" && reply.id !== null) {
      socket.sendRaw(JSON.stringify({ id: reply.id, method: "subscription.stop" }));
    }
    return { transport: "ws", status: 200, code: "ok", message: "" };
  }

  async #open(): Promise<RawSocket> {
    if (this.#socket && this.#socket.socket.readyState === this.#socket.socket.OPEN) return this.#socket;
    this.#socket = await openRawSocket(this.baseUrl, this.token ? { token: this.token } : {});
    return this.#socket;
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }
}
