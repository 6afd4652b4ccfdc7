import type { WebSocket } from "ws";

/**
 * The one file that touches `ws`'s private fields (ws 8: not in its public types). A `ws`
 * release that renames them breaks here and in the tests of the push path
 * (test/realtime-contract.test.ts, test/push-subscriptions.test.ts), nowhere else;
 * test/realtime-containment.test.ts fails if another file reads them.
 */
interface WsInternals {
  _socket: { write(chunk: Buffer): boolean; cork(): void; uncork(): void };
  _sender: { _queue: unknown[] };
  _extensions: Record<string, unknown>;
}

/**
 * Whether a frame written straight to the socket lands where ws.send would put it: nothing
 * queued in ws's sender (it would be overtaken) and no permessage-deflate (off on this server,
 * the only extension ws knows), which would make ws frame differently.
 */
export function canWriteFramesDirectly(socket: WebSocket): boolean {
  const ws = socket as unknown as WsInternals;
  return ws._sender._queue.length === 0 && ws._extensions["permessage-deflate"] === undefined;
}

/** Writes an already framed WebSocket message to the socket's TCP stream, past ws's sender. */
export function writeFrame(socket: WebSocket, frame: Buffer): void {
  (socket as unknown as WsInternals)._socket.write(frame);
}

/**
 * Writes framed WebSocket messages to the socket's TCP stream past ws's sender, in order, with
 * one system call (the stream's writev) however many there are.
 */
export function writeFrames(socket: WebSocket, frames: readonly Buffer[]): void {
  const tcp = (socket as unknown as WsInternals)._socket;
  tcp.cork();
  for (const frame of frames) tcp.write(frame);
  tcp.uncork();
}
