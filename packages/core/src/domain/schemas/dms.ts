import { z } from "zod";
import { userId } from "./chat.ts";

/** The most people a DM holds, the opener included. */
export const DM_MAX_MEMBERS = 10;

// The opener may list themself or repeat an id: the service counts distinct people, so the
// list itself is bounded only loosely here (a group of 11 is refused by the service, clearly).
export const openDmInput = z.object({
  userIds: z.array(userId).min(1, "Name at least one person").max(DM_MAX_MEMBERS),
});

export const listDmsInput = z
  .object({
    cursor: z.number().int().min(0).max(10_000).optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .optional();

export const blockUserInput = z.object({ userId });
