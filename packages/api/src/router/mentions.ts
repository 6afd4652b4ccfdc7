import { mentionsService as mentions } from "@parley/core";
import { listMentionsInput, markMentionsReadInput } from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { authedProcedure, perUser, rateLimit } from "../trpc.ts";

const writeLimit = rateLimit("write", perUser);

// Mounted at chat.mentions. Every list and count leaves out what the caller may no longer see:
// mentions in a private room they have left, and deleted messages.
export const mentionsRouter = {
  list: authedProcedure
    .meta({
      summary:
        "The caller's mentions inbox, newest first (keyset `cursor`), each with its message, room name and read state. A mention in a private room the caller has left, or of a deleted message, is not listed.",
    })
    .input(listMentionsInput)
    .query(({ ctx, input }) => mentions.listMentions(ctx, ctx.user, input)),

  unreadCount: authedProcedure
    .meta({ summary: "How many of the caller's visible mentions are unread." })
    .query(({ ctx }) => mentions.unreadMentionCount(ctx, ctx.user)),

  markRead: authedProcedure
    .meta({
      summary:
        "Marks one mention (by `messageId`) or every mention read. A mention the caller cannot see is `NOT_FOUND`.",
    })
    .input(markMentionsReadInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => mentions.markMentionsRead(ctx, ctx.user, input)),
} satisfies TRPCRouterRecord;
