/**
 * Per-WebSocket state: tRPC builds a socket's context once, so what can change lives here. Its own
 * module: the API's context carries it and the session sockets revoke it, neither importing the other.
 */
export interface ConnectionState {
  id: string;
  activeSubscriptions: number;
  /** Set when the socket's session ends or its user's rights change: no further call may use it. */
  revoked: boolean;
  /** Queries and mutations running on the socket (null until the first): a close waits for them. */
  calls: Set<Promise<unknown>> | null;
}
