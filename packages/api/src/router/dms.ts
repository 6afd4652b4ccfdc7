import { dmsService as dms } from "@parley/core";
import { listDmsInput, openDmInput } from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { authedProcedure, perUser, rateLimit } from "../trpc.ts";

const writeLimit = rateLimit("write", perUser);

export const dmsRouter = {
  open: authedProcedure
    .meta({
      summary:
        "Opens a direct message with `userIds` (one person, or a group of at most 10 with the caller), or returns the one these same people already have. Unknown users are `NOT_FOUND`; a block between the caller and anyone named is `FORBIDDEN`.",
    })
    .input(openDmInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => dms.openDm(ctx, ctx.user, input)),

  list: authedProcedure
    .meta({
      summary:
        "The caller's direct messages, newest activity first, with members, last message and unread count.",
    })
    .input(listDmsInput)
    .query(({ ctx, input }) => dms.listDms(ctx, ctx.user, input)),
} satisfies TRPCRouterRecord;
