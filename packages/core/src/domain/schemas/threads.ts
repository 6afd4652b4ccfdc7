import { z } from "zod";
import { uuid } from "./text.ts";

/** A thread is named by its root message's id. */
export const threadId = uuid("Is not a thread id");
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const threadInput = z.object({ threadId });

export const listThreadInput = z
  .object({
    threadId,
    before: seq.optional(),
    after: seq.optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .refine((v) => v.before === undefined || v.after === undefined, {
    message: "Give before or after, not both",
  });

export const markThreadReadInput = z.object({ threadId, seq });

export const followedThreadsInput = z
  .object({
    cursor: z.number().int().min(0).max(10_000).optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .optional();
