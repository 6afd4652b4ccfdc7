import { reconnectDelayMs } from "@parley/client";
import WebSocket from "ws";
import { type FrameHandlers, type FrameSocket, LeanSocket } from "./lean-socket.ts";
import { readySignal } from "./ready-signal.ts";
import type { Subscription } from "./types.ts";

/** `ws` behind the FrameSocket interface (subscribers that read frames, and every sampled one). */
function wsFrameSocket(url: string, handlers: FrameHandlers): FrameSocket {
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
  ws.on("open", () => handlers.onOpen());
  ws.on("message", (data: Buffer) => handlers.onFrame(data));
  ws.on("error", () => {});
  ws.on("close", (code) => handlers.onClose(code));
  return {
    isOpen: () => ws.readyState === WebSocket.OPEN,
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.close(),
    terminate: () => ws.terminate(),
  };
}

/**
 * A WebSocket that reconnects with @parley/client's jittered backoff. Subclasses speak a
 * server's protocol on raw frames: no decoding beyond what the bench needs to read.
 */
export abstract class RawSocketClient implements Subscription {
  starts = 0;
  lastStartAt = 0;
  errors = 0;
  disconnects = 0;
  ready: Promise<void>;
  protected ws: FrameSocket | null = null;
  private attempt = 0;
  private closed = false;
  private readonly resolveReady: () => void;
  private readonly rejectReady: (error: Error) => void;
  private paused = false;

  constructor(
    private readonly wsUrl: string,
    /** On LeanSocket instead of `ws`: for counting subscribers, whose cost must stay small. */
    private readonly lean = false,
  ) {
    ({ ready: this.ready, resolve: this.resolveReady, reject: this.rejectReady } = readySignal());
  }

  protected abstract onOpen(): void;
  protected abstract onFrame(frame: Buffer): void;

  connect(): this {
    const handlers: FrameHandlers = {
      onOpen: () => this.onOpen(),
      onFrame: (frame) => this.onFrame(frame),
      onClose: (code) => this.onSocketClose(ws, code),
    };
    const ws = this.lean ? new LeanSocket(this.wsUrl, handlers) : wsFrameSocket(this.wsUrl, handlers);
    this.ws = ws;
    return this;
  }

  private onSocketClose(ws: FrameSocket, code: number): void {
    if (this.ws !== ws || this.closed) return;
    this.ws = null;
    this.disconnects++;
    if (this.starts === 0 && code >= 4000) {
      this.rejectReady(new Error(`refused with close code ${code}`));
      return;
    }
    const delay = reconnectDelayMs(this.attempt++);
    setTimeout(() => {
      if (!this.closed) this.connect();
    }, delay);
  }

  protected started(): void {
    this.starts++;
    this.lastStartAt = performance.now();
    this.attempt = 0;
    this.resolveReady();
  }

  /** Error texts the server sent (a few), for the report. */
  static errorSamples: string[] = [];

  /**
   * The server ended the subscription with an error. Before the first start that is a refusal;
   * after it (e.g. the database timed out during a reconnect storm) the client subscribes again
   * with the same backoff, as an application would.
   */
  protected refused(why: string, retry?: () => void): void {
    this.errors++;
    if (RawSocketClient.errorSamples.length < 5) RawSocketClient.errorSamples.push(why.slice(0, 300));
    if (this.starts === 0 || !retry) {
      this.rejectReady(new Error(why));
      return;
    }
    setTimeout(
      () => {
        if (!this.closed) retry();
      },
      reconnectDelayMs(this.attempt++),
    );
  }

  protected send(text: string): void {
    this.ws?.send(text);
  }

  /** Drops the socket and reconnects (a server's "reconnect" notice). */
  protected reconnectNow(): void {
    this.ws?.close();
  }

  isOpen(): boolean {
    return this.ws?.isOpen() ?? false;
  }

  pause(): void {
    this.paused = true;
    this.ws?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.ws?.resume();
  }

  close(): void {
    this.closed = true;
    this.ws?.terminate();
    this.ws = null;
  }
}
