import { AUDIT_ACTIONS } from "@parley/db/enums";
import { z } from "zod";
import { roomId, userId } from "./chat.ts";
import { adminPageSize, keysetCursor } from "./forms.ts";
import { CONTROL_CHARACTER_MESSAGE, noControlCharacters, text } from "./text.ts";

// The database's closed list (@parley/db/enums), under the name the web app and the CLI import.
export const auditActions = AUDIT_ACTIONS;

/** An instant with its offset, as the CLI and the web app's date fields send it. */
const instant = text()
  .max(64, "Must be a date and time")
  .pipe(z.iso.datetime({ offset: true, message: "Must be an ISO 8601 date and time with an offset" }))
  .transform((value) => new Date(value).toISOString());

export const listAuditInput = z
  .object({
    action: z.enum(auditActions).optional(),
    actorId: userId.optional(),
    // Ids of several kinds (users, sessions' handles, jobs, submissions, messages): any short text.
    targetId: text()
      .min(1)
      .max(200, "Must be at most 200 characters")
      .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
      .optional(),
    roomId: roomId.optional(),
    /** Entries at or after this instant. */
    from: instant.optional(),
    /** Entries before this instant. */
    to: instant.optional(),
    cursor: keysetCursor.optional(),
    limit: adminPageSize.optional(),
  })
  .optional();

export type ListAuditInput = z.infer<typeof listAuditInput>;
export type { AuditAction } from "@parley/db/enums";
