import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { canWriteFramesDirectly, writeFrame, writeFrames } from "./ws-internals.ts";

/** Close code for a socket whose reader stopped reading. */
export const SLOW_CONSUMER_CLOSE_CODE = 4008;

type Data = Parameters<WebSocket["send"]>[0];
type SendOptions = { mask?: boolean; binary?: boolean; compress?: boolean; fin?: boolean };
type SendCallback = (err?: Error) => void;

/**
 * What sees a socket's events before its listeners (tRPC's adapter), the same for every socket of
 * a server: one object, not closures per socket (ws-server.ts).
 */
export interface SocketHooks<S> {
  /** Returns what the listeners get: the message, a smaller one, or null to keep it from them. */
  message(socket: S, data: Buffer, isBinary: boolean): Buffer | null;
  /** Before an event only the listeners handle (an error, a message that is not a Buffer). */
  listenersNeeded(socket: S): void;
  /** The socket closed: before its `close` listeners. */
  closed(socket: S): void;
}

/**
 * A `ws` WebSocket that refuses to queue without bound: a client that stops reading while
 * events flow would otherwise grow the server's memory until it dies (seen: 60 → 646 MiB in 6 s).
 */
export function guardedSocketClass(
  maxBufferedBytes: number,
  onSlowConsumer?: () => void,
  hooks?: SocketHooks<WebSocket>,
) {
  /** Sockets with frames that wait for the end of this turn of the event loop (sendFrame). */
  let waiting: GuardedSocket[] = [];
  const writeWaiting = () => {
    const sockets = waiting;
    waiting = [];
    for (const socket of sockets) {
      try {
        socket.flushFrames();
      } catch {
        // Its frames are lost: cut it off, so that its client resumes from the last it got
        // rather than read on past a hole; the other sockets of the turn still get theirs.
        socket.terminate();
      }
    }
  };

  class GuardedSocket extends WebSocket {
    /**
     * The upgrade request (the parts ws-server.ts keeps of it) until the connection's context is
     * being built: then dropped, not kept for the socket's life.
     */
    upgrade: IncomingMessage | null = null;

    /** Whether tRPC's adapter has its per-connection state for this socket (ws-server.ts). */
    trpcAttached = false;

    /** Cleared by the heartbeat when it pings (ws-server.ts), set again by the pong. */
    answeredPing = true;

    /**
     * When the socket's session may have run out (ms since the epoch): its idle expiry or its
     * absolute lifetime, whichever comes first. The heartbeat checks it again then.
     */
    sessionDueAt = Number.POSITIVE_INFINITY;

    /** What `onClosed` was given, told once when the socket closes. */
    private closedListener: { socketClosed(): void } | null = null;

    /** What sendFrame queued for the end of this turn: one frame (the usual case), several, none. */
    private framesWaiting: Buffer | Buffer[] | null = null;

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      // Noted here rather than by a listener: one more listener per socket turns ws's listener
      // table into a dictionary (a few hundred bytes on each of thousands of idle sockets).
      if (event === "pong") this.answeredPing = true;
      else if (event === "close") {
        // After the listeners (ws's own first, as when these were listeners too), and even if
        // one of them throws: a socket's subscriptions and session tracking must not outlive it.
        try {
          return super.emit(event, ...args);
        } finally {
          const listener = this.closedListener;
          this.closedListener = null;
          try {
            hooks?.closed(this);
          } finally {
            listener?.socketClosed();
          }
        }
      } else if (event === "message" && hooks && Buffer.isBuffer(args[0])) {
        const kept = hooks.message(this, args[0], args[1] === true);
        if (kept === null) return true;
        args[0] = kept;
      } else if (event === "error" || event === "message") hooks?.listenersNeeded(this);
      return super.emit(event, ...args);
    }

    /**
     * Tells `listener` once when the socket closes (session-sockets.ts' ClosableSocket). A field,
     * not `once("close")`: ws's own close listener is a socket's only one, and a second makes
     * EventEmitter keep an array for them (17 slots) and `once` a bound wrapper with its state,
     * about 360 bytes on each of thousands of idle sockets.
     */
    onClosed(listener: { socketClosed(): void }): void {
      if (this.closedListener === null) this.closedListener = listener;
      else super.once("close", () => listener.socketClosed());
    }

    /**
     * Sends a text message framed by `textFrame`: the fan-out's hot path (push-subscriptions.ts),
     * where one frame serves every subscriber whose request id is spelt alike. Written at the end
     * of this turn of the event loop, with whatever else the turn queued for this socket, in one
     * system call: the kernel write per socket was two thirds of the fan-out's CPU, and under
     * load the events of several sends land in one turn, so the cost per delivery falls as the
     * rate rises instead of the latency climbing. Anything else sent on the socket (send, close)
     * writes the waiting frames first: the order on the wire is the order of the calls.
     */
    sendFrame(frame: Buffer): void {
      if (this.readyState !== WebSocket.OPEN) return;
      const queued = this.framesWaiting;
      if (queued === null) {
        this.framesWaiting = frame;
        if (waiting.push(this) === 1) setImmediate(writeWaiting);
      } else if (Array.isArray(queued)) queued.push(frame);
      else this.framesWaiting = [queued, frame];
    }

    /**
     * Writes the frames sendFrame queued, straight to the socket (ws.send would allocate options
     * and a header and write two buffers per frame). Valid only while ws frames nothing later
     * itself: with permessage-deflate (off on this server, the only extension ws knows) or
     * frames queued in its sender, the payloads go through ws.send instead.
     */
    flushFrames(): void {
      const queued = this.framesWaiting;
      if (queued === null) return;
      this.framesWaiting = null;
      if (this.readyState !== WebSocket.OPEN) return;
      if (!canWriteFramesDirectly(this)) {
        for (const frame of Array.isArray(queued) ? queued : [queued]) {
          super.send(frame.subarray(frameHeaderLength(frame)), { binary: false });
        }
      } else if (Array.isArray(queued)) writeFrames(this, queued);
      else writeFrame(this, queued);
      this.dropIfNotReading();
    }

    override send(data: Data, cb?: SendCallback): void;
    override send(data: Data, options: SendOptions, cb?: SendCallback): void;
    override send(data: Data, optionsOrCb?: SendOptions | SendCallback, cb?: SendCallback): void {
      if (this.framesWaiting !== null) this.flushFrames();
      if (this.readyState !== WebSocket.OPEN) return;
      if (typeof optionsOrCb === "function") super.send(data, optionsOrCb);
      else super.send(data, optionsOrCb ?? {}, cb);
      this.dropIfNotReading();
    }

    override close(code?: number, data?: string | Buffer): void {
      if (this.framesWaiting !== null) this.flushFrames();
      super.close(code, data);
    }

    private dropIfNotReading() {
      if (this.bufferedAmount > maxBufferedBytes) {
        onSlowConsumer?.();
        // terminate, not close: a close frame would queue behind the data the reader ignores.
        this.terminate();
      }
    }
  }
  return GuardedSocket;
}

export type GuardedSocket = InstanceType<ReturnType<typeof guardedSocketClass>>;

/**
 * `head` + `tail` as one unmasked text frame (FIN, opcode 1), byte for byte what ws.send writes
 * for that text from a server. Never changed once built: the same Buffer may sit in many
 * sockets' write queues.
 */
export function textFrame(head: string, tail: Buffer | string): Buffer {
  const headBytes = Buffer.byteLength(head);
  const tailBytes = typeof tail === "string" ? Buffer.byteLength(tail) : tail.length;
  const length = headBytes + tailBytes;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  // Memory of its own, not a slice of Buffer's shared 8 KiB pool: the frame may wait in a lagging
  // reader's queue, and a queued slice keeps its whole pool alive, about 8 KiB held where the send
  // bound counts the frame's bytes (push-memory.test.ts). One allocation per event, not per socket.
  const frame = Buffer.allocUnsafeSlow(headerLength + length);
  frame[0] = 0x81; // FIN, opcode 1 (text); server frames are not masked
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  frame.write(head, headerLength, "utf8");
  if (typeof tail === "string") frame.write(tail, headerLength + headBytes, "utf8");
  else tail.copy(frame, headerLength + headBytes);
  return frame;
}

/** Where a server frame's payload starts (its length field's size, no mask key). */
export function frameHeaderLength(frame: Buffer): number {
  const length = frame[1] ?? 0;
  return length === 127 ? 10 : length === 126 ? 4 : 2;
}
