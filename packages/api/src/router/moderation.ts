import { moderationService as moderation } from "@parley/core";
import {
  globalBlocklistInput,
  liftRestrictionInput,
  listReportsInput,
  listRestrictionsInput,
  reportMessageInput,
  resolveReportInput,
  restrictInput,
  roomBlocklistInput,
  roomBlocklistListInput,
  setRoomRoleInput,
  transferOwnershipInput,
} from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { adminProcedure, perUser, rateLimit, roomProcedure } from "../trpc.ts";

const writeLimit = rateLimit("write", perUser);

const blocklistRouter = {
  list: roomProcedure("room-moderator")
    .meta({ summary: "The room's blocked words, as stored (NFKC-normalised, lower case)." })
    .input(roomBlocklistListInput)
    .query(({ ctx, input }) => moderation.listRoomWords(ctx, ctx.user, input.roomId)),

  add: roomProcedure("room-moderator")
    .meta({
      summary:
        "Blocks a word or phrase in the room: a send or edit containing it as a whole word (after NFKC and lower-casing) is `BAD_REQUEST` on `content`. Adding one already there changes nothing.",
    })
    .input(roomBlocklistInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.addRoomWord(ctx, ctx.user, input)),

  remove: roomProcedure("room-moderator")
    .meta({ summary: "Unblocks a word in the room; removing one not there changes nothing." })
    .input(roomBlocklistInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.removeRoomWord(ctx, ctx.user, input)),
} satisfies TRPCRouterRecord;

export const moderationRouter = {
  setRole: roomProcedure("room-owner")
    .meta({
      summary:
        "Makes a member a `moderator` or a moderator a `member` (`member.role_changed`); the change holds at once on every instance.",
    })
    .input(setRoomRoleInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.setRole(ctx, ctx.user, input)),

  transferOwnership: roomProcedure("room-owner")
    .meta({
      summary:
        "Hands the room to another member, who becomes `owner`; the old owner becomes `moderator`. Two `member.role_changed` events.",
    })
    .input(transferOwnershipInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.transferOwnership(ctx, ctx.user, input)),

  mute: roomProcedure("room-moderator")
    .meta({
      summary:
        "Mutes a user in the room, for `durationMinutes` or until lifted: they read but their sends, edits and reactions are `FORBIDDEN`. Moderators mute plain members only; nobody mutes the owner or themselves.",
    })
    .input(restrictInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.restrict(ctx, ctx.user, "mute", input)),

  unmute: roomProcedure("room-moderator")
    .meta({ summary: "Lifts a mute (`lifted: false` when there was none)." })
    .input(liftRestrictionInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.lift(ctx, ctx.user, "mute", input)),

  ban: roomProcedure("room-moderator")
    .meta({
      summary:
        "Bans a user from the room, for `durationMinutes` or until lifted: a member is removed (their subscriptions end with `FORBIDDEN`) and nobody can invite them back; joining is `FORBIDDEN` (a private room stays `NOT_FOUND` to them).",
    })
    .input(restrictInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.restrict(ctx, ctx.user, "ban", input)),

  unban: roomProcedure("room-moderator")
    .meta({ summary: "Lifts a ban (`lifted: false` when there was none); the user may join again." })
    .input(liftRestrictionInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.lift(ctx, ctx.user, "ban", input)),

  restrictions: roomProcedure("room-moderator")
    .meta({ summary: "The room's mutes and bans in force, newest first." })
    .input(listRestrictionsInput)
    .query(({ ctx, input }) => moderation.listRestrictions(ctx, ctx.user, input.roomId)),

  report: roomProcedure("message-reporter")
    .meta({
      summary:
        "Reports someone else's message to the room's moderators with a reason. Reporting the same message again returns the first report.",
    })
    .input(reportMessageInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.reportMessage(ctx, ctx.user, input)),

  reports: roomProcedure("room-moderator")
    .meta({
      summary:
        "The report queue (open reports unless `status` says otherwise), newest first: one room's, or without `roomId` every room the caller moderates (every room, for an admin).",
    })
    .input(listReportsInput)
    .query(({ ctx, input }) => moderation.listReports(ctx, ctx.user, input)),

  resolveReport: roomProcedure("room-moderator")
    .meta({
      summary:
        "Acts on a report (`delete` the message, `mute` or `ban` its author for `durationMinutes` or until lifted, or `dismiss`) and closes every open report on that message. A report the caller does not moderate is `NOT_FOUND`; a closed one `CONFLICT`.",
    })
    .input(resolveReportInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.resolveReport(ctx, ctx.user, input)),

  blocklist: blocklistRouter,
} satisfies TRPCRouterRecord;

/** The site-wide blocklist, mounted at `admin.blocklist`. */
export const globalBlocklistRouter = {
  list: adminProcedure
    .meta({ summary: "The global blocked words, which apply in every room." })
    .query(({ ctx }) => moderation.listGlobalWords(ctx)),

  add: adminProcedure
    .meta({ summary: "Blocks a word or phrase in every room (matched like a room's list)." })
    .input(globalBlocklistInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.addGlobalWord(ctx, ctx.user, input.word)),

  remove: adminProcedure
    .meta({ summary: "Unblocks a word in every room." })
    .input(globalBlocklistInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => moderation.removeGlobalWord(ctx, ctx.user, input.word)),
} satisfies TRPCRouterRecord;
