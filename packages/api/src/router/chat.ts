import type { RoomEvent } from "@parley/core";
import { messagesService as messages, roomsService as rooms, streamPresence, typing } from "@parley/core";
import {
  createRoomInput,
  editMessageInput,
  listMembersInput,
  listMessagesInput,
  listRoomsInput,
  markReadInput,
  messageInput,
  reactionInput,
  roomEventsInput,
  roomInput,
  roomMemberInput,
  searchMessagesInput,
  sendMessageInput,
  updateRoomInput,
} from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { pushStream } from "../push-stream.ts";
import { authedProcedure, memberProcedure, perUser, rateLimit, roomProcedure } from "../trpc.ts";
import { attachmentsRouter } from "./attachments.ts";
import { blocksRouter } from "./blocks.ts";
import { dmsRouter } from "./dms.ts";
import { mentionsRouter } from "./mentions.ts";
import { moderationRouter } from "./moderation.ts";
import { threadsRouter } from "./threads.ts";

// Per user: every write below touches the database and most fan out to a room's subscribers.
const writeLimit = rateLimit("write", perUser);
const typingLimit = rateLimit("typing", perUser);
const sendLimit = rateLimit("send", perUser);
// Frequent, small, and none sets a cookie: @parley/client's `realtimeSends` may send them on the socket.
const sentOverTheSocket = { realtime: { send: true } } as const;

const roomsRouter = {
  create: authedProcedure
    .meta({ summary: "Creates a room; the creator is its `owner`." })
    .input(createRoomInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => rooms.createRoom(ctx, ctx.user, input)),

  list: authedProcedure
    .meta({
      summary:
        "Public rooms and the caller's private ones (not DMs: see `chat.dms.list`), newest first, with member count, last message and unread count.",
    })
    .input(listRoomsInput)
    .query(({ ctx, input }) => rooms.listRooms(ctx, ctx.user, input)),

  get: roomProcedure("room-reader")
    .meta({
      summary: "One room. A private room the caller is not in is `NOT_FOUND`, like one that does not exist.",
    })
    .input(roomInput)
    .query(({ ctx, input }) => rooms.getRoom(ctx, ctx.user, input.roomId)),

  update: roomProcedure("room-owner")
    .meta({ summary: "Renames or redescribes a room, or changes its visibility." })
    .input(updateRoomInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => rooms.updateRoom(ctx, ctx.user, input)),

  delete: roomProcedure("room-owner")
    .meta({ summary: "Deletes a room with its messages; its subscriptions end with `FORBIDDEN`." })
    .input(roomInput)
    .use(writeLimit)
    .mutation(async ({ ctx, input }) => {
      await rooms.deleteRoom(ctx, ctx.user, input.roomId);
      return { ok: true as const };
    }),

  join: roomProcedure("room-joiner")
    .meta({ summary: "Joins a public room (private rooms are joined by invitation)." })
    .input(roomInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => rooms.joinRoom(ctx, ctx.user, input.roomId)),

  leave: memberProcedure
    .meta({ summary: "Leaves a room. The owner cannot leave." })
    .use(writeLimit)
    .mutation(async ({ ctx, input }) => {
      await rooms.leaveRoom(ctx, ctx.user, input.roomId);
      return { ok: true as const };
    }),

  invite: roomProcedure("room-moderator")
    .meta({ summary: "Adds a user to the room." })
    .input(roomMemberInput)
    .use(writeLimit)
    .mutation(async ({ ctx, input }) => {
      await rooms.inviteToRoom(ctx, ctx.user, input.roomId, input.userId);
      return { ok: true as const };
    }),

  kick: roomProcedure("room-moderator")
    .meta({ summary: "Removes a member; their subscriptions end with `FORBIDDEN`." })
    .input(roomMemberInput)
    .use(writeLimit)
    .mutation(async ({ ctx, input }) => {
      await rooms.kickFromRoom(ctx, ctx.user, input.roomId, input.userId);
      return { ok: true as const };
    }),

  members: memberProcedure
    .meta({ summary: "The room's members with role and online flag, 100 a page." })
    .input(listMembersInput)
    .query(({ ctx, input }) => rooms.listMembers(ctx, ctx.user, input.roomId, input.cursor)),

  markRead: memberProcedure
    .meta({ summary: "Moves the caller's read marker forward to `seq` (never back)." })
    .meta(sentOverTheSocket)
    .input(markReadInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => rooms.markRead(ctx, ctx.user, input.roomId, input.seq)),
} satisfies TRPCRouterRecord;

const messagesRouter = {
  send: memberProcedure
    .meta({
      summary:
        "Sends a message (1–4000 characters after trimming; may be empty with `attachmentIds`, up to 10 files uploaded with `chat.attachments.create`), or with `parentId` a reply in that message's thread. Idempotent on `clientMessageId`. `@handle` of a room member is resolved into `mentions` (and their inbox); `@room` from the owner or a moderator sets `mentionsRoom` and reaches every member; any other `@word` stays text. Rate-limited per user.",
    })
    .meta(sentOverTheSocket)
    .input(sendMessageInput)
    .use(sendLimit)
    .mutation(({ ctx, input }) => messages.sendMessage(ctx, ctx.user, input)),

  list: roomProcedure("room-reader")
    .meta({
      summary:
        "Top-level messages (thread roots carry `replyCount`) newest first, paged by `seq` with `before` or `after`; limit ≤ 100.",
    })
    .input(listMessagesInput)
    .query(({ ctx, input }) => messages.listMessages(ctx, ctx.user, input)),

  edit: roomProcedure("message-author")
    .meta({
      summary:
        "Replaces a message's text; sets `editedAt`. The mentions stay those resolved at send: an edit notifies no one.",
    })
    .meta(sentOverTheSocket)
    .input(editMessageInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => messages.editMessage(ctx, ctx.user, input)),

  delete: roomProcedure("message-author-or-moderator")
    .meta({ summary: "Soft-deletes a message: the text goes, a tombstone stays." })
    .meta(sentOverTheSocket)
    .input(messageInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => messages.deleteMessage(ctx, ctx.user, input.messageId)),

  react: roomProcedure("room-member")
    .meta({ summary: "Adds the caller's reaction (one per emoji per message)." })
    .meta(sentOverTheSocket)
    .input(reactionInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => messages.react(ctx, ctx.user, input)),

  unreact: roomProcedure("room-member")
    .meta({ summary: "Removes the caller's reaction." })
    .meta(sentOverTheSocket)
    .input(reactionInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => messages.unreact(ctx, ctx.user, input)),

  search: authedProcedure
    .meta({
      summary:
        "Full-text search (any text is a valid query) over rooms the caller may read, best match first.",
    })
    .input(searchMessagesInput)
    .query(({ ctx, input }) => messages.searchMessages(ctx, ctx.user, input)),
} satisfies TRPCRouterRecord;

export const chatRouter = {
  rooms: roomsRouter,
  messages: messagesRouter,
  attachments: attachmentsRouter,
  dms: dmsRouter,
  blocks: blocksRouter,
  mentions: mentionsRouter,
  moderation: moderationRouter,
  threads: threadsRouter,

  events: roomProcedure("room-reader")
    .meta({
      summary:
        "Every change to a room as `tracked(seq, event)`. With `lastEventId`, replays what was missed first; no event lost or repeated. A `lastEventId` past the room's newest event is `BAD_REQUEST`.",
    })
    .meta({ realtime: { push: true } })
    .input(roomEventsInput)
    .subscription(({ ctx, input }) => {
      // Only these outlive the call: capturing `ctx` would keep a copy of the context per subscription.
      const { roomFanout, user } = ctx;
      const { roomId } = input;
      const after = input.lastEventId ? Number(input.lastEventId) : null;
      return pushStream<RoomEvent>((sink) => roomFanout.open(user, roomId, after, sink));
    }),

  typing: memberProcedure
    .meta({ summary: "Says the caller is typing (for a few seconds). Ephemeral." })
    .meta(sentOverTheSocket)
    .use(typingLimit)
    .mutation(({ ctx, input }) => typing(ctx, ctx.user, input.roomId)),

  presence: memberProcedure
    .meta({ summary: "Snapshots of who is online and who is typing in the room. Ephemeral." })
    .subscription(({ ctx, input, signal }) => streamPresence(ctx, ctx.user, input.roomId, signal)),
} satisfies TRPCRouterRecord;
