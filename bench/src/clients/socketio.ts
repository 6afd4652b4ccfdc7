import { io } from "socket.io-client";
import { readMarker, readNumberField } from "../marker.ts";
import { RawSocketClient } from "./raw-socket.ts";
import { readySignal } from "./ready-signal.ts";
import type { Sender, SubscribeOptions, Subscription } from "./types.ts";

const ID = Buffer.from('"id":');

/**
 * A Socket.IO client on raw Engine.IO v4 frames over a WebSocket: "0" open → "40{auth}" connect,
 * "2" ping → "3" pong, "42[...]" events, "43<id>[...]" acks. For the bulk of the peer's
 * subscribers, for the same reason as the raw tRPC client: socket.io-client decodes every packet.
 */
export class RawSocketIoSubscriber extends RawSocketClient {
  private lastId: number | null = null;
  private ackId = 0;
  private joinAck = "";

  constructor(private readonly options: SubscribeOptions) {
    super(
      `${options.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`,
      options.onCount !== undefined,
    );
  }

  protected onOpen(): void {}

  private join(): void {
    const id = this.ackId++;
    this.joinAck = `43${id}[`;
    const offset = this.options.resume && this.lastId !== null ? String(this.lastId) : undefined;
    this.send(`42${id}${JSON.stringify(["join", { roomId: this.options.roomId, offset }])}`);
  }

  protected onFrame(frame: Buffer): void {
    const type = frame[0];
    if (type === 0x34 /* 4: message */) {
      const kind = frame[1];
      if (kind === 0x32 /* 2: event */) {
        if (this.options.onCount) {
          this.options.onCount();
          return;
        }
        if (this.options.resume) this.lastId = readNumberField(frame, ID) ?? this.lastId;
        const marker = readMarker(frame);
        if (marker) this.options.onMessage(marker);
      } else if (kind === 0x33 /* 3: ack */) {
        const text = frame.toString();
        if (text.startsWith(this.joinAck)) {
          if (text.includes('"ok"')) this.started();
          else this.refused(text, () => this.join());
        }
      } else if (kind === 0x30 /* 0: connected */) {
        this.join();
      } else if (kind === 0x34 /* 4: connect error */) {
        this.refused(frame.toString());
      }
    } else if (type === 0x32 /* 2: ping */) {
      this.send("3");
    } else if (type === 0x30 /* 0: open */) {
      this.send(`40${JSON.stringify({ token: this.options.token })}`);
    }
  }
}

/** The same subscriber through socket.io-client, as its docs show (with the last id on reconnect). */
export function subscribeWithClient(options: SubscribeOptions): Subscription {
  const socket = io(options.url, { auth: { token: options.token }, transports: ["websocket"] });
  let lastId: string | undefined;
  const { ready, resolve: resolveReady, reject: rejectReady } = readySignal();
  const state: Subscription = {
    ready,
    starts: 0,
    lastStartAt: 0,
    errors: 0,
    disconnects: 0,
    isOpen: () => socket.connected,
    pause() {},
    resume() {},
    close: () => socket.disconnect(),
  };
  socket.on("connect", () => {
    socket.emit(
      "join",
      { roomId: options.roomId, offset: options.resume ? lastId : undefined },
      (reply: { ok?: boolean }) => {
        if (!reply.ok) {
          state.errors++;
          rejectReady(new Error("join refused"));
          return;
        }
        state.starts++;
        state.lastStartAt = performance.now();
        resolveReady();
      },
    );
  });
  socket.on("message", (message: { id: string; content: string }) => {
    lastId = message.id;
    const marker = readMarker(message.content);
    if (marker) options.onMessage(marker);
  });
  socket.on("disconnect", () => {
    state.disconnects++;
  });
  socket.on("connect_error", () => {
    state.errors++;
  });
  return state;
}

export function subscribe(options: SubscribeOptions, real = false): Subscription {
  return real ? subscribeWithClient(options) : new RawSocketIoSubscriber(options).connect();
}

export function createSender(url: string, token: string): Sender {
  const socket = io(url, { auth: { token }, transports: ["websocket"] });
  return {
    ready: new Promise<void>((resolve) => socket.once("connect", () => resolve())),
    async send(roomId, content, clientMessageId) {
      const reply = (await socket
        .timeout(10_000)
        .emitWithAck("send", { roomId, content, clientMessageId })) as {
        id?: string;
      };
      if (!reply.id) throw new Error("send refused");
    },
    close: () => socket.disconnect(),
  };
}
