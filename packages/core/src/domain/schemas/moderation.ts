import { REPORT_ACTIONS, REPORT_STATUSES } from "@parley/db/enums";
import { z } from "zod";
import { messageId, roomId, userId } from "./chat.ts";
import { multiLine, singleLine, uuid } from "./text.ts";

const offsetCursor = z.number().int().min(0).max(10_000);
/** Up to a year; absent: until lifted. */
const durationMinutes = z
  .number()
  .int()
  .min(1)
  .max(60 * 24 * 366);

export const reportId = uuid("Is not a report id");
/** The database's enum, under the name the web app imports. */
export const reportStatuses = REPORT_STATUSES;

export const setRoomRoleInput = z.object({ roomId, userId, role: z.enum(["moderator", "member"]) });

export const transferOwnershipInput = z.object({ roomId, userId });

export const restrictInput = z.object({
  roomId,
  userId,
  durationMinutes: durationMinutes.optional(),
  reason: multiLine(0, 500).optional(),
});

export const liftRestrictionInput = z.object({ roomId, userId });

export const listRestrictionsInput = z.object({ roomId });

export const reportMessageInput = z.object({ messageId, reason: multiLine(1, 500) });

export const listReportsInput = z
  .object({
    roomId: roomId.optional(),
    status: z.enum(REPORT_STATUSES).optional(),
    cursor: offsetCursor.optional(),
  })
  .optional();

export const resolveReportInput = z.object({
  reportId,
  action: z.enum(REPORT_ACTIONS),
  durationMinutes: durationMinutes.optional(),
});

/** A blocked word or phrase; stored after NFKC normalisation and lower-casing. */
export const blockedWord = singleLine(1, 64);

export const roomBlocklistInput = z.object({ roomId, word: blockedWord });
export const roomBlocklistListInput = z.object({ roomId });
export const globalBlocklistInput = z.object({ word: blockedWord });
