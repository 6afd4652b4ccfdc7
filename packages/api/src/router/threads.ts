import { threadsService as threads } from "@parley/core";
import {
  followedThreadsInput,
  listThreadInput,
  markThreadReadInput,
  threadInput,
} from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { authedProcedure, perUser, rateLimit, roomProcedure } from "../trpc.ts";

const writeLimit = rateLimit("write", perUser);

// A reply is sent with `chat.messages.send({ parentId })`; its events travel on `chat.events`.
export const threadsRouter = {
  list: roomProcedure("room-reader")
    .meta({
      summary:
        "A thread's replies newest first, paged by `seq` with `before` or `after` (limit ≤ 100), with its root alongside.",
    })
    .input(listThreadInput)
    .query(({ ctx, input }) => threads.listThread(ctx, ctx.user, input)),

  follow: roomProcedure("room-reader")
    .meta({ summary: "Follows a thread: its replies count as unread in `chat.threads.followed`." })
    .input(threadInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => threads.followThread(ctx, ctx.user, input.threadId)),

  unfollow: roomProcedure("room-reader")
    .meta({ summary: "Stops following a thread (a later reply by the caller follows it again)." })
    .input(threadInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => threads.unfollowThread(ctx, ctx.user, input.threadId)),

  followed: authedProcedure
    .meta({
      summary:
        "The threads the caller follows in rooms they may read, latest reply first, with unread counts (others' live replies).",
    })
    .input(followedThreadsInput)
    .query(({ ctx, input }) => threads.followedThreads(ctx, ctx.user, input)),

  markRead: roomProcedure("room-reader")
    .meta({ summary: "Moves the caller's read marker in a followed thread forward to `seq` (never back)." })
    .input(markThreadReadInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => threads.markThreadRead(ctx, ctx.user, input)),
} satisfies TRPCRouterRecord;
