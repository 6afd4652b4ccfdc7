import { type AttachmentViewJson, type MessageViewJson, type Queryable, schema } from "@parley/db";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { EventBus } from "../bus/event-bus.ts";
import { markPlainJson } from "../plain-json.ts";

/**
 * A message as the API shows it. Written out here because it is the clients' contract:
 * @parley/client ships its declarations self-contained, without @parley/db. Its fields, their
 * order and their SQL are defined once, in @parley/db's queries/message-view.ts, and the
 * compiler holds this interface to that definition.
 */
export interface MessageView {
  id: string;
  roomId: string;
  seq: number;
  userId: string;
  authorName: string;
  content: string | null;
  clientMessageId: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  /** The thread root this message replies to; null for a message in the room's main timeline. */
  parentId: string | null;
  replyCount: number;
  lastReplyAt: string | null;
  /** Ids of the users the text mentions, resolved when it was sent. */
  mentions: string[];
  /** An `@room` by a moderator: every member is mentioned. */
  mentionsRoom: boolean;
  /** Its files, in the order they were sent; `[]` once the message is deleted. */
  attachments: AttachmentView[];
}

/** A file on a message. `url` and `thumbnailUrl` are paths on the server (`/api/v1/files/…`). */
export interface AttachmentView {
  id: string;
  /** The uploader's file name, sanitised: no path, no control or bidi characters, ≤ 200 characters. */
  name: string;
  /** Detected from the bytes, never taken from the name or the upload's header. */
  contentType: string;
  size: number;
  /** Images only: their dimensions in pixels. */
  width: number | null;
  height: number | null;
  url: string;
  /** Images only: a WebP that fits in 320×320. */
  thumbnailUrl: string | null;
}

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// Fails to compile ("'true' does not satisfy … 'false'") when MessageView and the view defined in
// @parley/db differ by a field or a type.
true satisfies Same<MessageView, MessageViewJson>;
true satisfies Same<AttachmentView, AttachmentViewJson>;

/** What `chat.events` yields. Times are ISO strings: live and replayed events are byte-identical. */
export type RoomEvent =
  | { type: "message.created"; roomId: string; seq: number; message: MessageView }
  /** `userId`: the message's author (as on the message), so a subscriber who blocked them is not sent it. */
  | {
      type: "message.updated";
      roomId: string;
      seq: number;
      messageId: string;
      userId: string;
      content: string;
      editedAt: string;
    }
  /** `userId`: the message's author, not who deleted it (a moderator may). */
  | {
      type: "message.deleted";
      roomId: string;
      seq: number;
      messageId: string;
      userId: string;
      deletedAt: string;
    }
  | { type: "reaction.added"; roomId: string; seq: number; messageId: string; userId: string; emoji: string }
  | {
      type: "reaction.removed";
      roomId: string;
      seq: number;
      messageId: string;
      userId: string;
      emoji: string;
    }
  | {
      type: "member.joined";
      roomId: string;
      seq: number;
      userId: string;
      displayName: string;
      role: "owner" | "moderator" | "member";
    }
  | { type: "member.left"; roomId: string; seq: number; userId: string; kicked: boolean }
  /** A promotion, demotion or ownership transfer (which changes two members' roles). */
  | {
      type: "member.role_changed";
      roomId: string;
      seq: number;
      userId: string;
      role: "owner" | "moderator" | "member";
    }
  /** `until`: when the sanction ends (ISO time), null until lifted. A ban of a member is followed by their `member.left`. */
  | {
      type: "member.muted" | "member.banned";
      roomId: string;
      seq: number;
      userId: string;
      until: string | null;
    }
  | { type: "member.unmuted" | "member.unbanned"; roomId: string; seq: number; userId: string }
  | {
      /**
       * A thread root's counters changed (a reply sent or deleted), as they now are: a client
       * that holds only the root stays right, and applying it twice changes nothing.
       */
      type: "thread.updated";
      roomId: string;
      seq: number;
      threadId: string;
      replyCount: number;
      lastReplyAt: string | null;
    }
  | {
      type: "room.updated";
      roomId: string;
      seq: number;
      name: string;
      description: string | null;
      isPrivate: boolean;
    };

/** Published (never stored) when a room is deleted: its subscriptions end. */
export interface RoomDeletedSignal {
  type: "room.deleted";
  roomId: string;
}

type Distribute<T> = T extends RoomEvent ? Omit<T, "seq" | "roomId"> : never;
export type RoomEventData = Distribute<RoomEvent>;

export const roomTopic = (roomId: string) => `room:${roomId}`;

/**
 * Takes the room's next seq and stores the event, inside the caller's transaction. The UPDATE
 * holds the room row's lock until commit, so transactions commit in seq order: a subscriber
 * that has seen seq N has seen every event before it.
 */
export async function appendRoomEvent(
  tx: Queryable,
  roomId: string,
  actorId: string | null,
  data: RoomEventData,
): Promise<RoomEvent> {
  const [room] = await tx
    .update(schema.rooms)
    .set({ lastSeq: sql`${schema.rooms.lastSeq} + 1` })
    .where(eq(schema.rooms.id, roomId))
    .returning({ seq: schema.rooms.lastSeq });
  if (!room) throw new Error(`room ${roomId} vanished inside its transaction`);
  const event = { ...data, roomId, seq: room.seq } as RoomEvent;
  await tx.insert(schema.roomEvents).values({
    roomId,
    seq: room.seq,
    type: event.type,
    messageId: "messageId" in event ? event.messageId : "message" in event ? event.message.id : null,
    actorId,
    payload: event,
  });
  return event;
}

/** Publishes events after their transaction committed. */
export async function publishRoomEvents(bus: EventBus, events: RoomEvent[]): Promise<void> {
  for (const event of events) await bus.publish(roomTopic(event.roomId), markPlainJson(event));
}

/** Stored events after `afterSeq`, oldest first. */
export async function readRoomEvents(
  db: Queryable,
  roomId: string,
  afterSeq: number,
  limit: number,
): Promise<RoomEvent[]> {
  const rows = await db
    .select({ payload: schema.roomEvents.payload })
    .from(schema.roomEvents)
    .where(and(eq(schema.roomEvents.roomId, roomId), gt(schema.roomEvents.seq, afterSeq)))
    .orderBy(asc(schema.roomEvents.seq))
    .limit(limit);
  return rows.map((row) => markPlainJson(row.payload as RoomEvent));
}
