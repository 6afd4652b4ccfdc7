import { webhooksService as webhooks } from "@parley/core";
import { createWebhookInput, updateWebhookInput, webhookIdInput } from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { adminProcedure, perUser, rateLimit } from "../trpc.ts";

// Admins too: a stolen admin session should not be able to write (or send requests) without bound.
const writeLimit = rateLimit("write", perUser);

export const webhooksRouter = {
  list: adminProcedure
    .meta({
      summary:
        "Registered webhooks newest first: URL, room (null: every public room), event types, whether active; never the secret.",
    })
    .query(({ ctx }) => webhooks.listWebhooks(ctx)),

  create: adminProcedure
    .meta({
      summary:
        "Registers a webhook for a room (`roomId`) or for every public room (none; private rooms and DMs are never sent to a global webhook), for the chosen room event types. Returns the signing secret (`whsec_…`, Standard Webhooks) once. `BAD_REQUEST` for a URL that resolves to a loopback, private or link-local address (in production); `NOT_FOUND` for an unknown room or a DM.",
    })
    .input(createWebhookInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => webhooks.createWebhook(ctx, input, { userId: ctx.user.id, ip: ctx.ip })),

  update: adminProcedure
    .meta({
      summary:
        "Changes a webhook's URL (checked as at creation), event types, or `active` (an inactive webhook gets no deliveries). `NOT_FOUND` for an unknown webhook.",
    })
    .input(updateWebhookInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => webhooks.updateWebhook(ctx, input, { userId: ctx.user.id, ip: ctx.ip })),

  delete: adminProcedure
    .meta({
      summary:
        "Deletes a webhook; its queued deliveries become dead jobs when tried. `NOT_FOUND` for an unknown webhook.",
    })
    .input(webhookIdInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => webhooks.deleteWebhook(ctx, input.id, { userId: ctx.user.id, ip: ctx.ip })),

  test: adminProcedure
    .meta({
      summary:
        "Queues a test delivery (`type: webhook.test`) through the outbox; returns its `jobId`, whose outcome `admin.jobs.list` shows. `CONFLICT` for an inactive webhook.",
    })
    .input(webhookIdInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => webhooks.testWebhook(ctx, input.id)),
} satisfies TRPCRouterRecord;
