import WebSocket from "ws";
import { createConditionWaiter } from "./condition-waiter.ts";

export interface RawSocket {
  socket: WebSocket;
  /** Sends a tRPC call over the socket; resolves with its response message. */
  call(method: "query" | "mutation" | "subscription", path: string, input?: unknown): Promise<TrpcWsMessage>;
  sendRaw(data: string | Buffer): void;
  /** Every message the server sent, in order (keep-alive pings aside). */
  received: TrpcWsMessage[];
  /** Resolves with the first received message `match` accepts, waiting for it to arrive. */
  next(match: (message: TrpcWsMessage) => boolean): Promise<TrpcWsMessage>;
  /** Resolves with the close code once the server closes the socket. */
  closed: Promise<number>;
  close(): void;
}

export interface TrpcWsMessage {
  id: number | string | null;
  result?: { type: string; data?: { json: unknown } };
  /** tRPC sends errors through the transformer: superjson's `{ json }` is unwrapped here. */
  error?: { message: string; data?: { code?: string } };
}

/** Parses one server message: null for keep-alive pings. */
export function parseServerMessage(data: unknown): TrpcWsMessage[] | null {
  const text = String(data);
  if (text === "PING" || text === "PONG") return null;
  const parsed = JSON.parse(text) as
    | (TrpcWsMessage & { error?: { json?: TrpcWsMessage["error"] } })[]
    | TrpcWsMessage;
  return (Array.isArray(parsed) ? parsed : [parsed]).map((message) => {
    const error = message.error as { json?: TrpcWsMessage["error"] } | undefined;
    return error?.json ? { ...message, error: error.json } : message;
  });
}

/** A bare `ws` connection speaking tRPC's wire protocol: for tests that watch the socket itself. */
export async function openRawSocket(
  baseUrl: string,
  options: { token?: string; origin?: string; headers?: Record<string, string> } = {},
): Promise<RawSocket> {
  const wsUrl = `${baseUrl.replace(/^http/, "ws")}/trpc${options.token ? "?connectionParams=1" : ""}`;
  const socket = new WebSocket(wsUrl, {
    ...(options.origin ? { origin: options.origin } : {}),
    headers: options.headers,
  });
  const pending = new Map<number | string, (message: TrpcWsMessage) => void>();
  const received: TrpcWsMessage[] = [];
  const waiter = createConditionWaiter();
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  socket.on("message", (data) => {
    if (String(data) === "PING") {
      socket.send("PONG");
      return;
    }
    for (const message of parseServerMessage(data) ?? []) {
      received.push(message);
      waiter.notify();
      if (message.id === null) continue;
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
  });
  if (options.token) {
    socket.send(JSON.stringify({ method: "connectionParams", data: { token: options.token } }));
  }
  // High, so calls never collide with ids a test writes into frames by hand.
  let nextId = 1_000_000;
  return {
    socket,
    call(method, path, input) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        socket.send(JSON.stringify({ id, method, params: { path, input: { json: input } } }));
      });
    },
    sendRaw: (data) => socket.send(data),
    received,
    next: (match) => waiter.first(received, match),
    closed,
    close: () => socket.close(),
  };
}
