import type { AppRouter } from "@parley/api";
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  type TRPCClient,
  type TRPCLink,
  wsLink,
} from "@trpc/client";
import superjson from "superjson";

export type { AppRouter, RouterInputs, RouterOutputs } from "@parley/api";
export { TRPCClientError } from "@trpc/client";

type WebSocketConstructor = NonNullable<Parameters<typeof createWSClient>[0]["WebSocket"]>;

export interface ParleyClientOptions {
  /** The server's base URL, e.g. http://localhost:3000 (HTTP at /trpc, WebSocket at /trpc). */
  url: string;
  /** A session token (from `auth.login` / `auth.register`); a function is read on every call. */
  token?: string | (() => string | null | undefined);
  /** Node 20 has no global WebSocket: pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** Extra HTTP headers, e.g. a cookie for cookie-based tools or tests. */
  headers?: () => Record<string, string>;
  fetch?: typeof fetch;
  /** Called when the socket opens or closes (connection state for a UI). */
  onSocketOpen?: () => void;
  onSocketClose?: (event: { code: number }) => void;
  /** Calls per HTTP batch; the server refuses batches above its own limit (50). */
  maxBatchItems?: number;
}

/**
 * Exponential backoff with full jitter: after a server restart, clients spread their
 * reconnects over the window instead of all arriving at the same instant.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(250 + random() * ceiling);
}

function httpUrl(base: string) {
  return `${base.replace(/\/$/, "")}/trpc`;
}

function wsUrl(base: string) {
  return httpUrl(base).replace(/^http/, "ws");
}

function readToken(token: ParleyClientOptions["token"]) {
  return (typeof token === "function" ? token() : token) ?? null;
}

/** The links and the WebSocket client behind them, for callers that manage the socket themselves. */
export function createParleyLinks(options: ParleyClientOptions): {
  links: TRPCLink<AppRouter>[];
  wsClient: ReturnType<typeof createWSClient>;
} {
  const wsClient = createWSClient({
    url: wsUrl(options.url),
    WebSocket: options.WebSocket,
    // Opened only while a subscription runs, closed shortly after the last one ends.
    lazy: { enabled: true, closeMs: 1_000 },
    retryDelayMs: (attempt) => reconnectDelayMs(attempt),
    connectionParams: () => {
      const token = readToken(options.token);
      return token ? { token } : {};
    },
    onOpen: options.onSocketOpen,
    onClose: (cause) => options.onSocketClose?.({ code: cause?.code ?? 1006 }),
  });
  const links: TRPCLink<AppRouter>[] = [
    splitLink({
      condition: (op) => op.type === "subscription",
      true: wsLink<AppRouter>({ client: wsClient, transformer: superjson }),
      false: httpBatchLink<AppRouter>({
        url: httpUrl(options.url),
        transformer: superjson,
        maxItems: options.maxBatchItems ?? 20,
        fetch: options.fetch,
        headers: () => {
          const token = readToken(options.token);
          return {
            ...options.headers?.(),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          };
        },
      }),
    }),
  ];
  return { links, wsClient };
}

export type ParleyClient = TRPCClient<AppRouter>;

/** The typed client: subscriptions over the WebSocket, everything else over batched HTTP. */
export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  return createTRPCClient<AppRouter>({ links: createParleyLinks(options).links });
}
