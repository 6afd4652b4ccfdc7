import { z } from "zod";
import { messageId } from "./chat.ts";
import { keysetCursor } from "./forms.ts";
import { text } from "./text.ts";

export const HANDLE_MIN = 2;
export const HANDLE_MAX = 24;
/** Words a mention means something else by: never a user's handle. */
export const RESERVED_HANDLES: readonly string[] = ["room", "here", "everyone", "channel", "all"];

/** A handle as a user types it: case is folded, a leading `@` is allowed. */
export const handle = text()
  .max(HANDLE_MAX * 4, `Must be at most ${HANDLE_MAX} characters`)
  .transform((value) => value.trim().replace(/^@/, "").toLowerCase())
  .pipe(
    z
      .string()
      .min(HANDLE_MIN, `Must be at least ${HANDLE_MIN} characters`)
      .max(HANDLE_MAX, `Must be at most ${HANDLE_MAX} characters`)
      .regex(/^[a-z0-9_]+$/, "Only letters a-z, digits and _")
      .refine((value) => !RESERVED_HANDLES.includes(value), "This handle is reserved"),
  );

export const changeHandleInput = z.object({ handle });

export const mentionEmailsInput = z.object({ enabled: z.boolean() });

export const listMentionsInput = z
  .object({
    cursor: keysetCursor.optional(),
    limit: z.number().int().min(1).max(100).optional(),
    unreadOnly: z.boolean().optional(),
  })
  .optional();

/** One mention (by its message), or every unread one when `messageId` is left out. */
export const markMentionsReadInput = z.object({ messageId: messageId.optional() }).optional();

export type ListMentionsInput = z.infer<typeof listMentionsInput>;
