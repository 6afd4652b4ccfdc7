import { createParleyClient } from "@parley/client";
import WebSocket from "ws";
import { readMarker, readNumberField } from "../marker.ts";
import { RawSocketClient } from "./raw-socket.ts";
import { readySignal } from "./ready-signal.ts";
import type { Sender, SubscribeOptions, Subscription } from "./types.ts";

const DATA = Buffer.from('"type":"data"');
const STARTED = Buffer.from('"type":"started"');
const RECONNECT = Buffer.from('"method":"reconnect"');
const ERROR = Buffer.from('"error":');
const SEQ = Buffer.from('"seq":');

/**
 * chat.events over tRPC's WebSocket protocol, the frames wsLink sends and reads: connectionParams
 * with the token, one `subscription` request, "PONG" to the server's "PING", and on reconnect the
 * same request with `lastEventId` (the last event's seq, which is its tracked id). Used for the
 * bulk of Parley's subscribers: @parley/client decodes every frame (JSON.parse, superjson,
 * observables), which would make the load generator, not the server, the limit at 500 sockets.
 */
export class RawParleySubscriber extends RawSocketClient {
  private lastSeq: number | null = null;
  private requestId = 0;

  constructor(private readonly options: SubscribeOptions) {
    super(`${options.url.replace(/^http/, "ws")}/trpc?connectionParams=1`, options.onCount !== undefined);
  }

  protected onOpen(): void {
    this.send(JSON.stringify({ method: "connectionParams", data: { token: this.options.token } }));
    this.subscribe();
  }

  private subscribe(): void {
    const lastEventId = this.options.resume && this.lastSeq !== null ? String(this.lastSeq) : undefined;
    this.send(
      JSON.stringify({
        id: ++this.requestId,
        method: "subscription",
        params: { path: "chat.events", input: { json: { roomId: this.options.roomId } }, lastEventId },
      }),
    );
  }

  protected onFrame(frame: Buffer): void {
    if (frame.length === 4 && frame.toString() === "PING") {
      this.send("PONG");
      return;
    }
    if (frame.indexOf(DATA) >= 0) {
      if (this.options.onCount) {
        this.options.onCount();
        return;
      }
      if (this.options.resume) this.lastSeq = readNumberField(frame, SEQ) ?? this.lastSeq;
      const marker = readMarker(frame);
      if (marker) this.options.onMessage(marker);
    } else if (frame.indexOf(STARTED) >= 0) {
      this.started();
    } else if (frame.indexOf(RECONNECT) >= 0) {
      this.reconnectNow();
    } else if (frame.indexOf(ERROR) >= 0) {
      this.refused(frame.toString(), () => this.subscribe());
    }
  }
}

/** The same subscription through @parley/client (wsLink), the path real Node clients take. */
export function subscribeWithClient(options: SubscribeOptions): Subscription {
  const api = createParleyClient({ url: options.url, token: options.token, WebSocket });
  const { ready, resolve: resolveReady, reject: rejectReady } = readySignal();
  let open = false;
  const state: Subscription = {
    ready,
    starts: 0,
    lastStartAt: 0,
    errors: 0,
    disconnects: 0,
    isOpen: () => open,
    pause() {},
    resume() {},
    close: () => subscription.unsubscribe(),
  };
  const subscription = api.chat.events.subscribe(
    { roomId: options.roomId },
    {
      onStarted() {
        open = true;
        state.starts++;
        state.lastStartAt = performance.now();
        resolveReady();
      },
      onData({ data }) {
        if (data.type !== "message.created") return;
        const marker = readMarker(data.message.content ?? "");
        if (marker) options.onMessage(marker);
      },
      onError(error) {
        state.errors++;
        rejectReady(error);
      },
      onConnectionStateChange(change) {
        if (change.state === "connecting" && open) state.disconnects++;
        if (change.state !== "pending") open = false;
      },
    },
  );
  return state;
}

export function subscribe(options: SubscribeOptions, real = false): Subscription {
  return real ? subscribeWithClient(options) : new RawParleySubscriber(options).connect();
}

/**
 * Sends through @parley/client with `realtimeSends`: over the client's WebSocket, as a chat app
 * that holds a subscription would (the peers send over their sockets too).
 */
export function createSender(url: string, token: string): Sender {
  const api = createParleyClient({ url, token, WebSocket, realtimeSends: true });
  return {
    ready: Promise.resolve(),
    async send(roomId, content, clientMessageId) {
      await api.chat.messages.send.mutate({ roomId, content, clientMessageId });
    },
    close() {},
  };
}
