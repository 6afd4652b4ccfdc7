import { attachmentsService as attachments } from "@parley/core";
import { createAttachmentInput } from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { memberProcedure, perUser, rateLimit } from "../trpc.ts";

// Each call reserves quota and a row the sweeper must later remove: the write limit's cost.
const writeLimit = rateLimit("write", perUser);

// The bytes travel outside tRPC: PUT {uploadUrl}, GET /api/v1/files/{id} (apps/server's attachment routes).
export const attachmentsRouter = {
  create: memberProcedure
    .meta({
      summary:
        "Asks to upload one file (≤ UPLOAD_MAX_BYTES, default 10 MiB; png, jpeg, gif, webp, pdf or plain text) to a room the caller may post in. Returns `uploadUrl`: PUT the raw bytes there before `expiresAt`, then send a message with its `attachmentId` in `attachmentIds`. Over the limit: PAYLOAD_TOO_LARGE; over the caller's quota: FORBIDDEN.",
    })
    .input(createAttachmentInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => attachments.createAttachment(ctx, ctx.user, input)),
} satisfies TRPCRouterRecord;
