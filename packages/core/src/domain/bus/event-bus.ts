/**
 * Publish/subscribe between services and subscribers, by topic. Services publish only
 * after their transaction commits. Topics are narrow (one room, one user's sessions), so an
 * event wakes only the subscribers that care.
 */
export interface EventBus {
  publish(topic: string, event: unknown): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(topic: string, handler: (event: unknown) => void): () => void;
  /** Whether the transport answers (always, in process); /readyz reports it. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export const topics = {
  /** Sessions that no longer exist: sockets authenticated with them must close. */
  revokedSessions: "sessions:revoked",
  /** Users whose rights changed (role, email verification, lock, delete): their sockets must close. */
  usersChanged: "users:changed",
} as const;

export interface RevokedSessionsEvent {
  sessionIds: string[];
}

export interface UsersChangedEvent {
  userIds: string[];
}

/**
 * Every change to what a user may do publishes this once committed, so that no open socket
 * keeps the rights it was opened with (see auth/session-sockets.ts).
 */
export async function publishUsersChanged(bus: EventBus, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const event: UsersChangedEvent = { userIds };
  await bus.publish(topics.usersChanged, event);
}

/**
 * Delivered on every subscribed topic when a bus that lost its transport reconnects: what was
 * published meanwhile may be lost, and subscribers re-read it from the database.
 */
export const RESYNC_EVENT = { type: "resync" } as const;
