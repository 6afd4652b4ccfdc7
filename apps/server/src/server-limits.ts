const DAY_MS = 24 * 60 * 60 * 1000;

export interface ServerLimits {
  bodyBytes: number;
  batchSize: number;
  wsPayloadBytes: number;
  wsBufferedBytes: number;
  subscriptionsPerConnection: number;
  /** WebSockets one user may hold open on one instance; more are closed with 4029. */
  wsConnectionsPerUser: number;
  /**
   * How often every WebSocket is pinged; one that missed the previous ping is dropped. The same
   * pass ends sockets whose session ran out, so they outlive it by at most this long.
   */
  wsHeartbeatMs: number;
  concurrentHashes: number;
  queuedHashes: number;
  /** Hashes running or waiting for one account or one client address: no one fills the queue. */
  hashesPerKey: number;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  shutdownGraceMs: number;
}

/** The one table of the server's bounds: config.ts takes them from here (WS_CONNECTIONS_PER_USER sets one). */
export const defaultLimits: ServerLimits = {
  // 1 MiB: room for a batch of long messages; a larger body is refused before it is read whole.
  bodyBytes: 1024 * 1024,
  batchSize: 50,
  wsPayloadBytes: 64 * 1024,
  // About a thousand typical events queued for one client before it counts as not reading.
  wsBufferedBytes: 1024 * 1024,
  subscriptionsPerConnection: 100,
  // A user with a few browsers, tabs and the CLI open; one that opened 300 was an attack.
  wsConnectionsPerUser: 20,
  wsHeartbeatMs: 30_000,
  concurrentHashes: 4,
  queuedHashes: 64,
  hashesPerKey: 4,
  sessionIdleMs: 14 * DAY_MS,
  sessionAbsoluteMs: 30 * DAY_MS,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  shutdownGraceMs: 5_000,
};
