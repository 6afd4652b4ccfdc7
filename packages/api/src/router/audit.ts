import { auditService as audit } from "@parley/core";
import { listAuditInput } from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import { adminProcedure } from "../trpc.ts";

export const auditRouter = {
  list: adminProcedure
    .meta({
      summary:
        "Audit entries newest first (auth events, admin and moderation actions), filtered by `action`, `actorId`, `targetId`, `roomId` and the time range [`from`, `to`); each with its actor's name and email; `nextCursor` pages on.",
    })
    .input(listAuditInput)
    .query(({ ctx, input }) => audit.listAudit(ctx, input)),
} satisfies TRPCRouterRecord;
