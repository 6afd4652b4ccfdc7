import { z } from "zod";
import { attachmentIds } from "./attachments.ts";
import { multiLine, singleLine, text, uuid } from "./text.ts";

export const roomId = uuid("Is not a room id");
export const messageId = uuid("Is not a message id");
export const userId = text()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9-]+$/, "Is not a user id");
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const offsetCursor = z.number().int().min(0).max(10_000);

export const MESSAGE_MAX_LENGTH = 4000;

/** Message text: 1–4000 characters after trimming, line breaks kept, no control characters. */
export const messageContent = multiLine(1, MESSAGE_MAX_LENGTH);

// Made at the first reaction, not when this module loads: a first Intl.Segmenter loads ICU's
// break-iterator data, 10-20 ms of every server start.
let graphemes: Intl.Segmenter | undefined;

/** Whether the text is one grapheme; stops at the second, so its cost does not grow with the text. */
function isOneGrapheme(value: string): boolean {
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  let count = 0;
  for (const _ of graphemes.segment(value)) if (++count > 1) return false;
  return count === 1;
}

/** One emoji (with its modifiers and joiners: one grapheme), not arbitrary text. */
export const emoji = text()
  .min(1, "Required")
  // Aborts: segmenting a 1 MB value into an array once took the server to its heap limit.
  .max(32, { message: "Is not a single emoji", abort: true })
  .regex(/^(\p{Extended_Pictographic}|\p{Emoji_Component}|\u200d|\ufe0f)+$/u, "Is not an emoji")
  .refine((value) => /\p{Extended_Pictographic}/u.test(value), "Is not an emoji")
  .refine(isOneGrapheme, "Is not a single emoji");

export const createRoomInput = z.object({
  name: singleLine(1, 80),
  description: multiLine(0, 500).optional(),
  isPrivate: z.boolean(),
});

export const listRoomsInput = z
  .object({
    cursor: offsetCursor.optional(),
    limit: z.number().int().min(1).max(100).optional(),
    search: singleLine(0, 80).optional(),
  })
  .optional();

export const roomInput = z.object({ roomId });

export const updateRoomInput = z
  .object({
    roomId,
    name: singleLine(1, 80).optional(),
    description: multiLine(0, 500).nullable().optional(),
    isPrivate: z.boolean().optional(),
  })
  .refine((v) => v.name !== undefined || v.description !== undefined || v.isPrivate !== undefined, {
    message: "Nothing to update",
  });

export const roomMemberInput = z.object({ roomId, userId });

export const listMembersInput = z.object({ roomId, cursor: offsetCursor.optional() });

export const markReadInput = z.object({ roomId, seq });

export const sendMessageInput = z
  .object({
    roomId,
    /** May be empty when the message carries files. */
    content: multiLine(0, MESSAGE_MAX_LENGTH),
    clientMessageId: text()
      .min(1, "Required")
      .max(64, "Must be at most 64 characters")
      .regex(/^[A-Za-z0-9_-]+$/, "Letters, digits, - and _ only"),
    /** A reply: the message it answers (a reply to a reply joins the same thread, at its root). */
    parentId: messageId.optional(),
    /** Files uploaded with `chat.attachments.create` (the caller's own, stored, in this room, unsent). */
    attachmentIds: attachmentIds.optional(),
  })
  .refine((v) => v.content.length > 0 || (v.attachmentIds?.length ?? 0) > 0, {
    message: "Required",
    path: ["content"],
  });

export const listMessagesInput = z
  .object({
    roomId,
    before: seq.optional(),
    after: seq.optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .refine((v) => v.before === undefined || v.after === undefined, {
    message: "Give before or after, not both",
  });

export const editMessageInput = z.object({ messageId, content: messageContent });

export const messageInput = z.object({ messageId });

export const reactionInput = z.object({ messageId, emoji });

export const searchMessagesInput = z.object({
  query: singleLine(1, 200),
  roomId: roomId.optional(),
  cursor: offsetCursor.optional(),
});

export const roomEventsInput = z.object({
  roomId,
  // Set by wsLink on reconnect from the last tracked id it saw: the room seq, as a string.
  lastEventId: text()
    .regex(/^\d{1,15}$/, "Is not an event id")
    .nullish(),
});
