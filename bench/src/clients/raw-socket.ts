import { reconnectDelayMs } from "@parley/client";
import WebSocket from "ws";
import { readySignal } from "./ready-signal.ts";
import type { Subscription } from "./types.ts";

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
  protected ws: WebSocket | null = null;
  private attempt = 0;
  private closed = false;
  private readonly resolveReady: () => void;
  private readonly rejectReady: (error: Error) => void;
  private paused = false;

  constructor(private readonly wsUrl: string) {
    ({ ready: this.ready, resolve: this.resolveReady, reject: this.rejectReady } = readySignal());
  }

  protected abstract onOpen(): void;
  protected abstract onFrame(frame: Buffer): void;

  connect(): this {
    const ws = new WebSocket(this.wsUrl, { perMessageDeflate: false, skipUTF8Validation: true });
    this.ws = ws;
    ws.on("open", () => this.onOpen());
    ws.on("message", (data: Buffer) => this.onFrame(data));
    ws.on("error", () => {});
    ws.on("close", (code) => {
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
    });
    return this;
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
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** Drops the socket and reconnects (a server's "reconnect" notice). */
  protected reconnectNow(): void {
    this.ws?.close();
  }

  isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
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
