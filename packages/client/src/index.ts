import type { AppRouter, MutationPath } from "@parley/api";
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
  wsLink,
} from "@trpc/client";
import { observable } from "@trpc/server/observable";
import superjson from "superjson";

export type { AppRouter, MessageView, RoomEvent, RouterInputs, RouterOutputs } from "@parley/api";
export { TRPCClientError };

type WebSocketConstructor = NonNullable<Parameters<typeof createWSClient>[0]["WebSocket"]>;

export interface ParleyClientOptions {
  /** The server's base URL, e.g. http://localhost:3000 (HTTP at /trpc, WebSocket at /trpc). */
  url: string;
  /** A session token (from `auth.login` / `auth.register`); a function is read on every call. */
  token?: string | (() => string | null | undefined);
  /** Node 20 has no global WebSocket: pass `ws`'s (its type differs from the DOM's, hence the loose type). */
  WebSocket?: new (
    url: string,
    protocols?: string | string[],
  ) => object;
  /** Extra HTTP headers, e.g. a cookie for cookie-based tools or tests. */
  headers?: () => Record<string, string>;
  fetch?: typeof fetch;
  /** Called when the socket opens or closes (connection state for a UI). */
  onSocketOpen?: () => void;
  onSocketClose?: (event: { code: number }) => void;
  /** Calls per HTTP batch; the server refuses batches above its own limit (50). */
  maxBatchItems?: number;
  /**
   * Sends chat messages, edits, reactions, typing and read markers over the WebSocket instead of
   * HTTP (needs `WebSocket`). For apps that keep a subscription open anyway: a send then skips
   * the HTTP request and its session lookup (the socket's session was checked when it opened,
   * and a revoked session closes it). Off by default: calls go over HTTP, which any proxy and
   * cookie set-up supports. Sign-in and account calls always use HTTP (they set cookies).
   */
  realtimeSends?: boolean;
}

/**
 * The calls `realtimeSends` moves to the WebSocket: frequent, small, and none sets a cookie.
 * Written out (a bundle carries no router), each a mutation of AppRouter; the server's test
 * realtime-contract.test.ts checks the list against the procedures whose meta opts in.
 */
export const REALTIME_PATHS: ReadonlySet<string> = new Set([
  "chat.messages.send",
  "chat.messages.edit",
  "chat.messages.delete",
  "chat.messages.react",
  "chat.messages.unreact",
  "chat.typing",
  "chat.rooms.markRead",
] satisfies MutationPath<AppRouter>[]);

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

/** Where no WebSocket exists (Node 20 without `ws`), HTTP calls still work; subscriptions say why not. */
function missingWebSocketLink(): TRPCLink<AppRouter> {
  return () => () =>
    observable((observer) => {
      observer.error(
        new TRPCClientError(
          "Subscriptions need a WebSocket: pass `WebSocket` (e.g. from the `ws` package) to createParleyClient",
        ),
      );
    });
}

/** The links and the WebSocket client behind them, for callers that manage the socket themselves. */
export function createParleyLinks(options: ParleyClientOptions): {
  links: TRPCLink<AppRouter>[];
  wsClient: ReturnType<typeof createWSClient> | null;
} {
  const WebSocketImpl = (options.WebSocket ?? globalThis.WebSocket) as WebSocketConstructor | undefined;
  const wsClient = WebSocketImpl
    ? createWSClient({
        url: wsUrl(options.url),
        WebSocket: WebSocketImpl,
        // Opened only while a subscription runs, closed shortly after the last one ends.
        lazy: { enabled: true, closeMs: 1_000 },
        retryDelayMs: (attempt) => reconnectDelayMs(attempt),
        connectionParams: () => {
          const token = readToken(options.token);
          return token ? { token } : {};
        },
        onOpen: options.onSocketOpen,
        onClose: (cause) => options.onSocketClose?.({ code: cause?.code ?? 1006 }),
      })
    : null;
  const links: TRPCLink<AppRouter>[] = [
    splitLink({
      condition: (op) =>
        op.type === "subscription" || (options.realtimeSends === true && REALTIME_PATHS.has(op.path)),
      true: wsClient
        ? wsLink<AppRouter>({ client: wsClient, transformer: superjson })
        : missingWebSocketLink(),
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
