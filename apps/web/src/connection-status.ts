import { useSyncExternalStore } from "react";

/**
 * What the page tells the user about the live connection. The WebSocket is lazy (open only
 * while a subscription runs), so a closed socket means "reconnecting" only while something
 * on the page wants live updates; otherwise there is nothing to show.
 */
export type ConnectionStatus = "idle" | "connecting" | "connected" | "reconnecting";

export interface ConnectionStore {
  status(): ConnectionStatus;
  subscribe(listener: () => void): () => void;
  /** Wired to createParleyLinks' onSocketOpen / onSocketClose. */
  socketOpened(): void;
  socketClosed(): void;
  /** A live view mounts; returns its release. */
  wantLive(): () => void;
}

export function createConnectionStore(): ConnectionStore {
  let open = false;
  let everOpened = false;
  let wanted = 0;
  let current: ConnectionStatus = "idle";
  const listeners = new Set<() => void>();

  function update() {
    const next: ConnectionStatus =
      wanted === 0 ? "idle" : open ? "connected" : everOpened ? "reconnecting" : "connecting";
    if (next === current) return;
    current = next;
    for (const listener of listeners) listener();
  }

  return {
    status: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    socketOpened() {
      open = true;
      everOpened = true;
      update();
    },
    socketClosed() {
      open = false;
      update();
    },
    wantLive() {
      wanted++;
      update();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        wanted--;
        // The next live view starts from "connecting", not from a stale "reconnecting".
        if (wanted === 0) everOpened = open;
        update();
      };
    },
  };
}

export function useConnectionStatus(store: ConnectionStore): ConnectionStatus {
  return useSyncExternalStore(store.subscribe, store.status);
}
