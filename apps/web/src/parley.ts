import { type AppRouter, createParleyClient, type ParleyClient, TRPCClientError } from "@parley/client";
import { QueryClient } from "@tanstack/react-query";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { createContext, useContext } from "react";
import { type ConnectionStore, createConnectionStore } from "./connection-status.ts";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Codes that a retry cannot fix: the answer would be the same. */
const FINAL_CODES = new Set(["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT"]);

/** The tRPC error code of a failed call ("FORBIDDEN", …), if it is one. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const data: unknown = error.data;
  if (typeof data !== "object" || data === null || !("code" in data)) return undefined;
  return typeof data.code === "string" ? data.code : undefined;
}

export interface Parley {
  client: ParleyClient;
  queryClient: QueryClient;
  connection: ConnectionStore;
}

/**
 * The browser's client: same origin, so the session cookie authenticates both HTTP and the
 * WebSocket (the server never hands a token to a page), and no token is configured.
 */
export function createParley(origin: string): Parley {
  const connection = createConnectionStore();
  const client = createParleyClient({
    url: origin,
    onSocketOpen: connection.socketOpened,
    onSocketClose: connection.socketClosed,
  });
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        retry: (failures, error) => failures < 3 && !FINAL_CODES.has(errorCode(error) ?? ""),
      },
    },
  });
  return { client, queryClient, connection };
}

export const ParleyContext = createContext<Parley | null>(null);

/** The app's client, query cache and connection state (provided once, in main.tsx). */
export function useParley(): Parley {
  const parley = useContext(ParleyContext);
  if (!parley) throw new Error("useParley outside <ParleyContext.Provider>");
  return parley;
}
