import { blocksService as blocks } from "@parley/core";
import { blockUserInput } from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { authedProcedure, perUser, rateLimit } from "../trpc.ts";

const writeLimit = rateLimit("write", perUser);

export const blocksRouter = {
  block: authedProcedure
    .meta({
      summary:
        "Blocks a user: no new direct messages between you, no sends in your one-to-one DM, and their messages hidden from you in history, search and events.",
    })
    .input(blockUserInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => blocks.blockUser(ctx, ctx.user, input.userId)),

  unblock: authedProcedure
    .meta({ summary: "Lifts the caller's block on a user (unblocking someone not blocked changes nothing)." })
    .input(blockUserInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => blocks.unblockUser(ctx, ctx.user, input.userId)),

  list: authedProcedure
    .meta({ summary: "The users the caller blocked." })
    .query(({ ctx }) => blocks.listBlocks(ctx, ctx.user)),
} satisfies TRPCRouterRecord;
