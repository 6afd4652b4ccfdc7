import { outboxService as outbox, userAdminService as users } from "@parley/core";
import { jobIdInput, listJobsInput, listUsersInput, setUserRoleInput } from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { adminProcedure, perUser, rateLimit } from "../trpc.ts";
import { auditRouter } from "./audit.ts";
import { globalBlocklistRouter } from "./moderation.ts";
import { webhooksRouter } from "./webhooks.ts";

// Admins too: a stolen admin session should not be able to write without bound.
const writeLimit = rateLimit("write", perUser);

export const adminRouter = {
  audit: auditRouter,

  blocklist: globalBlocklistRouter,
  webhooks: webhooksRouter,
  users: {
    list: adminProcedure
      .meta({
        summary:
          "Users newest first; `search` matches part of the email or display name; `nextCursor` pages on.",
      })
      .input(listUsersInput)
      .query(({ ctx, input }) => users.listUsers(ctx, input)),

    setRole: adminProcedure
      .meta({
        summary:
          "Makes a user an `admin` or a plain `user`; the user's open WebSockets close (4002) and reconnect with the new role. `NOT_FOUND` for an unknown user; `CONFLICT` when it would leave no admin.",
      })
      .input(setUserRoleInput)
      .use(writeLimit)
      .mutation(({ ctx, input }) => users.setUserRole(ctx, input, { userId: ctx.user.id, ip: ctx.ip })),
  },

  jobs: {
    list: adminProcedure
      .meta({
        summary:
          "Outbox jobs newest first (`kind`: `email`, or `webhook` with the event type as `template` and the URL as `toAddress`), by status (`pending`, `sending`, `sent`, `dead`), with attempts and the last error; never the content.",
      })
      .input(listJobsInput)
      .query(({ ctx, input }) => outbox.listJobs(ctx, input)),

    retry: adminProcedure
      .meta({
        summary:
          "Sends a dead (or waiting) job again now, with a fresh allowance of attempts. `CONFLICT` for a job already sent or being sent.",
      })
      .input(jobIdInput)
      .use(writeLimit)
      .mutation(({ ctx, input }) => outbox.retryJob(ctx, input.id, { userId: ctx.user.id, ip: ctx.ip })),
  },
} satisfies TRPCRouterRecord;
