import type { MessageView, RoomEvent } from "@parley/client";
import { describeFailure, usageError } from "../cli-error.ts";
import { defineCommand } from "../command.ts";
import { isoTime, isoTimeOrNull } from "../iso-time.ts";
import { findRoom } from "../room-lookup.ts";

const time = (iso: string) => new Date(iso).toTimeString().slice(0, 8);

/** One message as a line (continuation lines indented), for reading or for grep. */
function formatMessage(message: Pick<MessageView, "createdAt" | "authorName" | "content">): string {
  const text = (message.content ?? "(deleted)").replace(/\n/g, "\n    ");
  return `[${time(message.createdAt)}] ${message.authorName}: ${text}`;
}

/** A message as --json prints it: the API's own field names, times in ISO 8601 UTC. */
function messageJson(message: MessageView) {
  return {
    id: message.id,
    seq: message.seq,
    userId: message.userId,
    authorName: message.authorName,
    content: message.content,
    createdAt: isoTime(message.createdAt),
    editedAt: isoTimeOrNull(message.editedAt),
    deletedAt: isoTimeOrNull(message.deletedAt),
  };
}

type TailedEvent = Extract<RoomEvent, { type: "message.created" | "message.updated" | "message.deleted" }>;

/** One line of `tail --json`: the event as chat.events names it; the history comes as message.created. */
function eventJson(event: TailedEvent) {
  switch (event.type) {
    case "message.created":
      return { type: event.type, roomId: event.roomId, seq: event.seq, message: messageJson(event.message) };
    case "message.updated":
      return {
        type: event.type,
        roomId: event.roomId,
        seq: event.seq,
        messageId: event.messageId,
        content: event.content,
        editedAt: isoTime(event.editedAt),
      };
    case "message.deleted":
      return {
        type: event.type,
        roomId: event.roomId,
        seq: event.seq,
        messageId: event.messageId,
        deletedAt: isoTime(event.deletedAt),
      };
  }
}

export const tail = defineCommand({
  details: [
    "Prints the last few messages, then every new one, edit and deletion, live. When the",
    "connection drops (the server restarts, the network blinks) it reconnects by itself and",
    "the server replays what was missed: no message is skipped or printed twice. Connection",
    "notices go to standard error, messages to standard output.",
    "JSON lines: {type, roomId, seq, ...} with type message.created (and message: id, seq, userId,",
    "authorName, content, createdAt, editedAt, deletedAt; the history comes first, the same way),",
    "message.updated (messageId, content, editedAt) or message.deleted (messageId, deletedAt).",
  ].join("\n"),
  options: {
    history: {
      type: "string",
      description: "how many earlier messages to print first (default 10)",
      valueName: "N",
    },
  },
  json: "lines",
  positionals: { min: 1, max: 1 },
  async run(ctx, values, [roomArg = ""]) {
    const history = Number(values.history ?? "10");
    if (!Number.isInteger(history) || history < 0 || history > 100) {
      throw usageError("--history must be a whole number from 0 to 100");
    }
    let dropped = false;
    const { api } = await ctx.signedIn({
      onSocketOpen: () => {
        if (dropped) ctx.warn("reconnected");
        dropped = false;
      },
      onSocketClose: () => {
        if (ctx.io.signal.aborted || dropped) return;
        dropped = true;
        ctx.warn("connection lost: reconnecting…");
      },
    });
    const room = await findRoom(api, roomArg);
    // The replay point is read before the history, so nothing between the two is missed.
    const { lastSeq } = await api.chat.rooms.get.query({ roomId: room.id });
    if (history > 0) {
      const page = await api.chat.messages.list.query({
        roomId: room.id,
        before: lastSeq + 1,
        limit: history,
      });
      for (const message of page.items.reverse()) {
        if (values.json) {
          ctx.printJson(eventJson({ type: "message.created", roomId: room.id, seq: message.seq, message }));
        } else ctx.print(formatMessage(message));
      }
    }

    const authors = new Map<string, string>();
    const onEvent = (event: RoomEvent) => {
      if (values.json) {
        if (
          event.type === "message.created" ||
          event.type === "message.updated" ||
          event.type === "message.deleted"
        ) {
          ctx.printJson(eventJson(event));
        }
        return;
      }
      if (event.type === "message.created") {
        authors.set(event.message.id, event.message.authorName);
        ctx.print(formatMessage(event.message));
      } else if (event.type === "message.updated") {
        const author = authors.get(event.messageId) ?? "someone";
        ctx.print(`[${time(event.editedAt)}] ${author} edited: ${event.content.replace(/\n/g, "\n    ")}`);
      } else if (event.type === "message.deleted") {
        ctx.print(
          `[${time(event.deletedAt)}] ${authors.get(event.messageId) ?? "someone"} deleted a message`,
        );
      }
    };

    await new Promise<void>((resolve, reject) => {
      const subscription = api.chat.events.subscribe(
        { roomId: room.id, lastEventId: String(lastSeq) },
        {
          onStarted: () => ctx.warn(`tailing ${room.name} (Ctrl-C to stop)`),
          onData: ({ data }) => onEvent(data),
          onError: (error) => reject(describeFailure(error, ctx.url)),
          onComplete: () => resolve(),
        },
      );
      ctx.io.signal.addEventListener(
        "abort",
        () => {
          subscription.unsubscribe();
          resolve();
        },
        { once: true },
      );
    });
  },
});
