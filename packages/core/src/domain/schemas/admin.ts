import { JOB_STATUSES, USER_ROLES } from "@parley/db/enums";
import { z } from "zod";
import { userId } from "./chat.ts";
import { adminPageSize, keysetCursor } from "./forms.ts";
import { CONTROL_CHARACTER_MESSAGE, noControlCharacters, text, uuid } from "./text.ts";

// The database's enums (@parley/db/enums), under the names the web app and the CLI import.
export const userRoles = USER_ROLES;
export const jobStatuses = JOB_STATUSES;

export const listUsersInput = z
  .object({
    cursor: keysetCursor.optional(),
    // Matched as a substring of the email or the display name; any text is a valid search.
    search: text()
      .max(200, "Must be at most 200 characters")
      .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
      .transform((value) => value.trim())
      .optional(),
    limit: adminPageSize.optional(),
  })
  .optional();

// The id's own format: free text here reached PostgreSQL, which refuses a NUL with a 500.
export const setUserRoleInput = z.object({ userId, role: z.enum(userRoles) });

export const listJobsInput = z
  .object({
    status: z.enum(jobStatuses).optional(),
    cursor: keysetCursor.optional(),
    limit: adminPageSize.optional(),
  })
  .optional();

export const jobIdInput = z.object({ id: uuid("Is not a job id") });

export type ListUsersInput = z.infer<typeof listUsersInput>;
export type ListJobsInput = z.infer<typeof listJobsInput>;
export type { JobStatus, UserRole } from "@parley/db/enums";
