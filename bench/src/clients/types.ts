import type { Marker } from "../marker.ts";

export interface SubscribeOptions {
  url: string;
  token: string;
  roomId: string;
  onMessage: (marker: Marker) => void;
  /**
   * Set for a counting subscriber: called once per data frame instead of `onMessage`, with no
   * marker read, so the load generator spends only the WebSocket framing on it.
   */
  onCount?: () => void;
  /** On reconnect, ask for what was missed (Parley: lastEventId; peers: the last id seen). */
  resume?: boolean;
}

/** One subscriber: a socket holding one room subscription. */
export interface Subscription {
  /** Resolves at the first "subscribed" acknowledgement; rejects if refused. */
  ready: Promise<void>;
  /** How many times the subscription was (re)established. */
  starts: number;
  /** performance.now() of the latest (re)establishment. */
  lastStartAt: number;
  /** Errors reported by the server for this subscription. */
  errors: number;
  /** How many times the socket was closed under it (by the server or the network). */
  disconnects: number;
  /** Whether the socket is open now. */
  isOpen(): boolean;
  /** Stops reading from the socket (the kernel buffers fill, then the server's). */
  pause(): void;
  resume(): void;
  close(): void;
}

export interface Sender {
  /** Resolves once the sender can send (its socket is open, for the socket-based ones). */
  ready: Promise<void>;
  send(roomId: string, content: string, clientMessageId: string): Promise<void>;
  close(): void;
}
