import {
  type EventBus,
  type RevokedSessionsEvent,
  topics,
  type UsersChangedEvent,
} from "../bus/event-bus.ts";
import type { ConnectionState } from "../context.ts";

export interface ClosableSocket {
  close(code?: number, reason?: string): void;
  once(event: "close", listener: () => void): unknown;
}

/**
 * Close code sent when the socket's session ends (logout, password change, revocation, its
 * lifetime): reconnecting with the same credentials gets an anonymous socket.
 */
export const SESSION_ENDED_CLOSE_CODE = 4001;

/**
 * Close code sent when what the user may do changed (role, email verification, and any later
 * lock or delete): the client reconnects, and the new socket's context carries the new rights.
 */
export const RIGHTS_CHANGED_CLOSE_CODE = 4002;

/** Close code sent when the user already holds the most WebSockets allowed on this instance. */
export const TOO_MANY_SOCKETS_CLOSE_CODE = 4029;

export interface SessionSocketsOptions {
  /** WebSockets one user may hold open on one instance. */
  maxPerUser: number;
}

interface TrackedSocket {
  socket: ClosableSocket;
  connection: ConnectionState;
  sessionId: string;
  /** Null while the session is being validated. */
  userId: string | null;
  /** Users whose rights changed while this socket's session was being validated. */
  changedMeanwhile: Set<string> | null;
}

export type SessionSockets = ReturnType<typeof createSessionSockets>;

/**
 * The WebSocket connections of each session and each user. tRPC builds a socket's context
 * once, so neither a logout nor a demotion would reach a socket by itself: this closes them on
 * purpose, on every instance (the bus carries the events). Closing, rather than re-reading the
 * user on every call, also ends the socket's subscriptions, which were admitted with the old
 * rights (an admin reading a private room must lose that stream when demoted).
 */
export function createSessionSockets(bus: EventBus, options: SessionSocketsOptions) {
  const bySession = new Map<string, Set<TrackedSocket>>();
  const byUser = new Map<string, Set<TrackedSocket>>();
  const validating = new Set<TrackedSocket>();

  function remove(tracked: TrackedSocket) {
    validating.delete(tracked);
    const ofSession = bySession.get(tracked.sessionId);
    ofSession?.delete(tracked);
    if (ofSession?.size === 0) bySession.delete(tracked.sessionId);
    if (tracked.userId === null) return;
    const ofUser = byUser.get(tracked.userId);
    ofUser?.delete(tracked);
    if (ofUser?.size === 0) byUser.delete(tracked.userId);
  }

  function end(tracked: TrackedSocket, code: number, reason: string) {
    remove(tracked);
    closeAfterCalls(tracked.socket, tracked.connection, code, reason);
  }

  const unsubscribeSessions = bus.subscribe(topics.revokedSessions, (event) => {
    for (const sessionId of (event as Partial<RevokedSessionsEvent>).sessionIds ?? []) {
      for (const tracked of bySession.get(sessionId) ?? [])
        end(tracked, SESSION_ENDED_CLOSE_CODE, "Session ended");
    }
  });

  const unsubscribeUsers = bus.subscribe(topics.usersChanged, (event) => {
    const userIds = (event as Partial<UsersChangedEvent>).userIds ?? [];
    for (const userId of userIds) {
      for (const tracked of byUser.get(userId) ?? [])
        end(tracked, RIGHTS_CHANGED_CLOSE_CODE, "Rights changed");
    }
    // A socket whose session was read before the change must not keep what it read.
    for (const tracked of validating) {
      tracked.changedMeanwhile ??= new Set();
      for (const userId of userIds) tracked.changedMeanwhile.add(userId);
    }
  });

  return {
    /**
     * Tracks a socket by its session before the session is validated, so that a revocation or
     * a change of rights landing in between still reaches it; `admit` names its user once known.
     */
    track(sessionId: string, socket: ClosableSocket, connection: ConnectionState) {
      const tracked: TrackedSocket = { socket, connection, sessionId, userId: null, changedMeanwhile: null };
      let ofSession = bySession.get(sessionId);
      if (!ofSession) {
        ofSession = new Set();
        bySession.set(sessionId, ofSession);
      }
      ofSession.add(tracked);
      validating.add(tracked);
      const untrack = () => remove(tracked);
      socket.once("close", untrack);
      return {
        untrack,
        /** The session is valid and belongs to `userId`: counts the socket, or closes it. */
        admit(userId: string) {
          if (!validating.delete(tracked)) return; // ended while validating
          if (tracked.changedMeanwhile?.has(userId)) {
            end(tracked, RIGHTS_CHANGED_CLOSE_CODE, "Rights changed");
            return;
          }
          tracked.changedMeanwhile = null;
          let ofUser = byUser.get(userId);
          if (!ofUser) {
            ofUser = new Set();
            byUser.set(userId, ofUser);
          }
          if (ofUser.size >= options.maxPerUser) {
            end(tracked, TOO_MANY_SOCKETS_CLOSE_CODE, `At most ${options.maxPerUser} connections per user`);
            return;
          }
          tracked.userId = userId;
          ofUser.add(tracked);
        },
      };
    },
    /** Ends the sockets of a session that has run out (see ws-server.ts' heartbeat). */
    expire(sessionId: string) {
      for (const tracked of bySession.get(sessionId) ?? [])
        end(tracked, SESSION_ENDED_CLOSE_CODE, "Session expired");
    },
    size(): number {
      let n = 0;
      for (const sockets of bySession.values()) n += sockets.size;
      return n;
    },
    close() {
      unsubscribeSessions();
      unsubscribeUsers();
      bySession.clear();
      byUser.clear();
      validating.clear();
    },
  };
}

/**
 * Takes the socket's authority at once (calls that arrive from now on are refused), but closes
 * it only once the calls already running have answered: `auth.logout` sent over the socket gets
 * its reply before the close. Calls started after this are not waited for, so a client cannot
 * hold the socket open by calling on.
 */
function closeAfterCalls(socket: ClosableSocket, connection: ConnectionState, code: number, reason: string) {
  connection.revoked = true;
  const running = connection.calls;
  if (!running || running.size === 0) {
    socket.close(code, reason);
    return;
  }
  // The adapter sends a reply a few promise turns after the procedure settles: one macrotask later
  // it has been written, and ws sends the close frame after it.
  void Promise.allSettled([...running]).then(() => setImmediate(() => socket.close(code, reason)));
}
