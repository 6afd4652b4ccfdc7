import * as floor from "./clients/floor.ts";
import * as parley from "./clients/parley.ts";
import * as socketio from "./clients/socketio.ts";
import type { Sender, SubscribeOptions, Subscription } from "./clients/types.ts";
import type { ServerKind } from "./server-process.ts";

/** What the workloads need to know about each of the three servers. */
export interface Target {
  kind: ServerKind;
  label: string;
  /** `real`: through the server's own client library (Parley, Socket.IO), else raw frames. */
  subscribe(options: SubscribeOptions, real?: boolean): Subscription;
  hasClientLibrary: boolean;
  createSender(url: string, token: string): Sender;
  /** A GET that returns 50 messages of a room, newest first, with reactions. */
  historyPath(roomId: string, limit: number): string;
  /** The table whose rows hold this server's messages (workload 6 counts what was stored). */
  messagesTable: string;
  /** The column that orders them as subscribers receive them (commit order for Parley's seq). */
  orderColumn: string;
  /** The table a reconnecting subscriber's catch-up query reads. */
  replayTable: { schema: string; table: string };
}

export const targets: Target[] = [
  {
    kind: "parley",
    label: "Parley",
    subscribe: parley.subscribe,
    hasClientLibrary: true,
    createSender: parley.createSender,
    historyPath: (roomId, limit) =>
      `/trpc/chat.messages.list?input=${encodeURIComponent(JSON.stringify({ json: { roomId, limit } }))}`,
    messagesTable: "public.messages",
    orderColumn: "seq",
    replayTable: { schema: "public", table: "room_events" },
  },
  {
    kind: "socketio",
    label: "Socket.IO peer",
    subscribe: socketio.subscribe,
    hasClientLibrary: true,
    createSender: socketio.createSender,
    historyPath: (roomId, limit) => `/history?roomId=${roomId}&limit=${limit}`,
    messagesTable: "sio.messages",
    orderColumn: "id",
    replayTable: { schema: "sio", table: "messages" },
  },
  {
    kind: "floor",
    label: "Floor (ws + pg)",
    subscribe: (options) => floor.subscribe(options),
    hasClientLibrary: false,
    createSender: floor.createSender,
    historyPath: (roomId, limit) => `/history?roomId=${roomId}&limit=${limit}`,
    messagesTable: "floor.messages",
    orderColumn: "id",
    replayTable: { schema: "floor", table: "messages" },
  },
];
