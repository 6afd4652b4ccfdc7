import WebSocket from "ws";
import { readMarker, readNumberField } from "../marker.ts";
import { RawSocketClient } from "./raw-socket.ts";
import type { Sender, SubscribeOptions, Subscription } from "./types.ts";

const ID = Buffer.from('"id":');
// Frames start with {"t":"<type>": the type's first letter is at index 6.
const TYPE_AT = 6;

/** The floor's own protocol: {"t":"sub"} after {"t":"ready"}, then {"t":"msg"} frames. */
export class FloorSubscriber extends RawSocketClient {
  private lastId: number | null = null;

  constructor(private readonly options: SubscribeOptions) {
    super(`${options.url.replace(/^http/, "ws")}/?token=${options.token}`, options.onCount !== undefined);
  }

  protected onOpen(): void {}

  private subscribe(): void {
    const after = this.options.resume && this.lastId !== null ? String(this.lastId) : undefined;
    this.send(JSON.stringify({ t: "sub", room: this.options.roomId, after }));
  }

  protected onFrame(frame: Buffer): void {
    const type = frame[TYPE_AT];
    if (type === 0x6d /* m: msg */) {
      if (this.options.onCount) {
        this.options.onCount();
        return;
      }
      if (this.options.resume) this.lastId = readNumberField(frame, ID) ?? this.lastId;
      const marker = readMarker(frame);
      if (marker) this.options.onMessage(marker);
    } else if (type === 0x72 /* r: ready */) {
      this.subscribe();
    } else if (type === 0x73 /* s: subbed */) {
      this.started();
    } else if (type === 0x65 /* e: error */) {
      this.refused(frame.toString(), () => this.subscribe());
    }
  }
}

export function subscribe(options: SubscribeOptions): Subscription {
  return new FloorSubscriber(options).connect();
}

export function createSender(url: string, token: string): Sender {
  const wsUrl = `${url.replace(/^http/, "ws")}/?token=${token}`;
  const pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  let ws: WebSocket | null = null;
  let ready = false;
  let closed = false;
  let attempt = 0;
  let markReady!: () => void;
  const firstReady = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const connect = () => {
    const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws = socket;
    socket.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"t":"ready"')) {
        ready = true;
        attempt = 0;
        markReady();
        return;
      }
      const reply = JSON.parse(text) as { t: string; cid?: string };
      if (!reply.cid) return;
      const waiter = pending.get(reply.cid);
      pending.delete(reply.cid);
      if (reply.t === "ack") waiter?.resolve();
      else waiter?.reject(new Error("send refused"));
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      ready = false;
      for (const waiter of pending.values()) waiter.reject(new Error("connection lost"));
      pending.clear();
      if (!closed) setTimeout(connect, Math.min(2_000, 100 * 2 ** attempt++));
    });
  };
  connect();
  return {
    ready: firstReady,
    send(roomId, content, cid) {
      if (!ready || ws?.readyState !== WebSocket.OPEN) return Promise.reject(new Error("not connected"));
      const socket = ws;
      return new Promise<void>((resolve, reject) => {
        pending.set(cid, { resolve, reject });
        socket.send(JSON.stringify({ t: "send", room: roomId, content, cid }));
      });
    },
    close() {
      closed = true;
      ws?.terminate();
    },
  };
}
