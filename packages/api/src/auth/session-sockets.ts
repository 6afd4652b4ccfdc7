import { type EventBus, type RevokedSessionsEvent, topics } from "../bus/event-bus.ts";
import type { ConnectionState } from "../context.ts";

export interface ClosableSocket {
  close(code?: number, reason?: string): void;
  once(event: "close", listener: () => void): unknown;
}

/** Close code sent when the socket's session ends (logout, password change, revocation). */
export const SESSION_ENDED_CLOSE_CODE = 4001;

export type SessionSockets = ReturnType<typeof createSessionSockets>;

/**
 * The WebSocket connections opened with each session. tRPC builds a socket's context once,
 * so a logout would not end a socket's authority by itself: this closes them on purpose.
 */
export function createSessionSockets(bus: EventBus) {
  const bySession = new Map<string, Map<ClosableSocket, ConnectionState>>();

  const unsubscribe = bus.subscribe(topics.revokedSessions, (event) => {
    for (const sessionId of (event as RevokedSessionsEvent).sessionIds) {
      const sockets = bySession.get(sessionId);
      if (!sockets) continue;
      bySession.delete(sessionId);
      for (const [socket, connection] of sockets) {
        connection.revoked = true;
        socket.close(SESSION_ENDED_CLOSE_CODE, "Session ended");
      }
    }
  });

  return {
    track(sessionId: string, socket: ClosableSocket, connection: ConnectionState): () => void {
      let sockets = bySession.get(sessionId);
      if (!sockets) {
        sockets = new Map();
        bySession.set(sessionId, sockets);
      }
      sockets.set(socket, connection);
      const untrack = () => {
        const current = bySession.get(sessionId);
        current?.delete(socket);
        if (current?.size === 0) bySession.delete(sessionId);
      };
      socket.once("close", untrack);
      return untrack;
    },
    size(): number {
      let n = 0;
      for (const sockets of bySession.values()) n += sockets.size;
      return n;
    },
    close() {
      unsubscribe();
      bySession.clear();
    },
  };
}
