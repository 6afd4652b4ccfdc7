import type { IncomingMessage } from "node:http";
import type { TRPCRequestInfo } from "@trpc/server/http";

/**
 * What tRPC passes a context factory beside the request, for the routes that build a context
 * outside tRPC's adapters (the attachment bytes, the SSE door). Parley's context reads none of it.
 */
export function trpcRequestInfo(req: IncomingMessage, type: "mutation" | "subscription"): TRPCRequestInfo {
  return {
    isBatchCall: false,
    accept: null,
    calls: [],
    type,
    connectionParams: null,
    signal: new AbortController().signal,
    url: new URL(req.url ?? "/", "http://localhost"),
  };
}
