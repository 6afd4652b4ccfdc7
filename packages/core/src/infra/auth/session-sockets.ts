import { type Database, schema } from "@parley/db";
import { inArray } from "drizzle-orm";
import {
  type EventBus,
  RESYNC_EVENT,
  type RevokedSessionsEvent,
  topics,
  type UsersChangedEvent,
} from "../../domain/bus/event-bus.ts";
import type { ConnectionState } from "./connection-state.ts";
import type { SessionUser } from "./session-module.ts";

export interface ClosableSocket {
  close(code?: number, reason?: string): void;
  once(event: "close", listener: () => void): unknown;
  /**
   * Where a socket has it, calls `listener.socketClosed()` once when it closes, more cheaply than
   * `once` (the server's WebSockets: apps/server/src/realtime/guarded-socket.ts): a method, so
   * that nothing is allocated per socket to be told.
   */
  onClosed?(listener: SocketCloseListener): void;
}

export interface SocketCloseListener {
  socketClosed(): void;
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
  /** Read when the bus resynchronises: which sessions and rights are still as the sockets have them. */
  db: Database;
  /** Told when that re-read fails (the sockets stay as they are). */
  onResyncError?: (error: unknown) => void;
}

/** What a socket's context decided its rights from. */
type Rights = Pick<SessionUser, "id" | "role" | "emailVerified">;

/** The rights a socket holds, as one small number: compared after a resync. */
const rightsOf = (user: Pick<SessionUser, "role" | "emailVerified">) =>
  (user.role === "admin" ? 2 : 0) + (user.emailVerified ? 1 : 0);

interface TrackedSocket {
  socket: ClosableSocket;
  connection: ConnectionState;
  sessionId: string;
  /** Null while the session is being validated. */
  userId: string | null;
  /** The user's role and verification as the socket's context has them (`rightsOf`). */
  rights: number;
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
  // Arrays, not Sets: most sessions and users have one socket, and an array of one is a
  // fraction of a Set's size on each of thousands of idle sockets.
  const bySession = new Map<string, TrackedSocket[]>();
  const byUser = new Map<string, TrackedSocket[]>();
  const validating = new Set<TrackedSocket>();

  /** Told of its socket's close by a method of its class: no closure kept per socket. */
  class Tracked implements TrackedSocket, SocketCloseListener {
    userId: string | null = null;
    rights = 0;
    changedMeanwhile: Set<string> | null = null;
    constructor(
      readonly socket: ClosableSocket,
      readonly connection: ConnectionState,
      readonly sessionId: string,
    ) {}
    socketClosed() {
      remove(this);
    }
  }

  function remove(tracked: TrackedSocket) {
    validating.delete(tracked);
    removeFrom(bySession, tracked.sessionId, tracked);
    if (tracked.userId !== null) removeFrom(byUser, tracked.userId, tracked);
  }

  function end(tracked: TrackedSocket, code: number, reason: string) {
    remove(tracked);
    closeAfterCalls(tracked.socket, tracked.connection, code, reason);
  }

  /** A copy: ending a socket takes it out of the list being walked. */
  function endAll(list: TrackedSocket[] | undefined, code: number, reason: string) {
    for (const tracked of list ? [...list] : []) end(tracked, code, reason);
  }

  const resyncFailed = (error: unknown) => options.onResyncError?.(error);

  /** The bus lost events while its transport was down: ends the sockets whose session is gone. */
  async function recheckSessions() {
    const ids = [...bySession.keys()];
    if (ids.length === 0) return;
    const rows = await options.db
      .select({ id: schema.sessions.id })
      .from(schema.sessions)
      .where(inArray(schema.sessions.id, ids));
    const alive = new Set(rows.map((row) => row.id));
    for (const id of ids) {
      if (!alive.has(id)) endAll(bySession.get(id), SESSION_ENDED_CLOSE_CODE, "Session ended");
    }
  }

  /** Likewise for rights: closes the sockets whose user's role or verification differs now. */
  async function recheckRights() {
    const ids = [...byUser.keys()];
    if (ids.length === 0) return;
    const u = schema.users;
    const rows = await options.db
      .select({ id: u.id, role: u.role, emailVerified: u.emailVerified })
      .from(u)
      .where(inArray(u.id, ids));
    const current = new Map(rows.map((row) => [row.id, rightsOf(row)]));
    for (const id of ids) {
      const stale = byUser.get(id)?.filter((tracked) => tracked.rights !== current.get(id));
      endAll(stale, RIGHTS_CHANGED_CLOSE_CODE, "Rights changed");
    }
  }

  const isResync = (event: unknown) =>
    typeof event === "object" && event !== null && (event as { type?: unknown }).type === RESYNC_EVENT.type;

  const unsubscribeSessions = bus.subscribe(topics.revokedSessions, (event) => {
    if (isResync(event)) {
      recheckSessions().catch(resyncFailed);
      return;
    }
    for (const sessionId of (event as Partial<RevokedSessionsEvent>).sessionIds ?? []) {
      endAll(bySession.get(sessionId), SESSION_ENDED_CLOSE_CODE, "Session ended");
    }
  });

  const unsubscribeUsers = bus.subscribe(topics.usersChanged, (event) => {
    if (isResync(event)) {
      recheckRights().catch(resyncFailed);
      return;
    }
    const userIds = (event as Partial<UsersChangedEvent>).userIds ?? [];
    for (const userId of userIds) endAll(byUser.get(userId), RIGHTS_CHANGED_CLOSE_CODE, "Rights changed");
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
      const tracked = new Tracked(socket, connection, sessionId);
      addTo(bySession, sessionId, tracked);
      validating.add(tracked);
      const untrack = () => remove(tracked);
      if (socket.onClosed) socket.onClosed(tracked);
      else socket.once("close", untrack);
      return {
        untrack,
        /** The session is valid and belongs to `user`: counts the socket, or closes it. */
        admit(user: Rights) {
          if (!validating.delete(tracked)) return; // ended while validating
          if (tracked.changedMeanwhile?.has(user.id)) {
            end(tracked, RIGHTS_CHANGED_CLOSE_CODE, "Rights changed");
            return;
          }
          tracked.changedMeanwhile = null;
          if ((byUser.get(user.id)?.length ?? 0) >= options.maxPerUser) {
            end(tracked, TOO_MANY_SOCKETS_CLOSE_CODE, `At most ${options.maxPerUser} connections per user`);
            return;
          }
          tracked.userId = user.id;
          tracked.rights = rightsOf(user);
          addTo(byUser, user.id, tracked);
        },
      };
    },
    /** Ends the sockets of a session that has run out (see ws-server.ts' heartbeat). */
    expire(sessionId: string) {
      endAll(bySession.get(sessionId), SESSION_ENDED_CLOSE_CODE, "Session expired");
    },
    size(): number {
      let n = 0;
      for (const sockets of bySession.values()) n += sockets.length;
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

function addTo(map: Map<string, TrackedSocket[]>, key: string, tracked: TrackedSocket) {
  const list = map.get(key);
  if (list) list.push(tracked);
  else map.set(key, [tracked]);
}

function removeFrom(map: Map<string, TrackedSocket[]>, key: string, tracked: TrackedSocket) {
  const list = map.get(key);
  const at = list?.indexOf(tracked) ?? -1;
  if (!list || at < 0) return;
  list.splice(at, 1);
  if (list.length === 0) map.delete(key);
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
  // it has been written, and ws sends the close frame after it. A call that hangs does not keep
  // the socket, and the subscriptions it still carries, open for longer than the grace.
  const grace = setTimeout(() => socket.close(code, reason), CLOSE_GRACE_MS);
  grace.unref?.();
  void Promise.allSettled([...running]).then(() =>
    setImmediate(() => {
      clearTimeout(grace);
      socket.close(code, reason);
    }),
  );
}

/** The longest a revoked socket waits for its running calls before it closes anyway. */
const CLOSE_GRACE_MS = 5_000;
