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
} as const;

export interface RevokedSessionsEvent {
  sessionIds: string[];
}

/**
 * Delivered on every subscribed topic when a bus that lost its transport reconnects: what was
 * published meanwhile may be lost, and subscribers re-read it from the database.
 */
export const RESYNC_EVENT = { type: "resync" } as const;
