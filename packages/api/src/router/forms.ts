import { formsService as forms } from "@parley/core";
import {
  contactSubmitInput,
  demoSubmitInput,
  type FormKind,
  formSubmitOutput,
  listSubmissionsInput,
  submissionIdInput,
  updateSubmissionInput,
} from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import type { Context } from "../context.ts";
import { adminProcedure, perUser, publicProcedure, rateLimit } from "../trpc.ts";

/** Per client address: the forms are open to anyone, so the address is all there is to count. */
const formsLimit = rateLimit("forms", (ctx) => ctx.ip ?? "unknown");
const writeLimit = rateLimit("write", perUser);

function submitted(ctx: Context, kind: FormKind, outcome: forms.SubmitOutcome) {
  // The caller gets the same answer either way: a bot must not learn that its honeypot was seen.
  if (!outcome.stored) ctx.log.info({ kind, ip: ctx.ip }, "form submission dropped: honeypot filled");
  return { ok: true as const };
}

export const formsRouter = {
  contact: {
    submit: publicProcedure
      .meta({
        summary:
          "Stores a contact request and, in the same transaction, queues a notification to the team and a receipt to the sender. `website` is a honeypot: filled, the answer is the same but nothing is stored.",
        openapi: {
          method: "POST",
          path: "/forms/contact",
          protect: false,
          tags: ["forms"],
          summary: "Send a contact request",
          errorResponses: { 400: "Invalid input (see data.zodError.fieldErrors)", 429: "Too many requests" },
        },
      })
      .use(formsLimit)
      .input(contactSubmitInput)
      .output(formSubmitOutput)
      .mutation(async ({ ctx, input }) =>
        submitted(ctx, "contact", await forms.submitContact(ctx, input, { ip: ctx.ip })),
      ),
  },

  demo: {
    submit: publicProcedure
      .meta({
        summary:
          "Stores a demo request (work email only, preferred date in the future) and queues the same two emails. Same honeypot rule.",
        openapi: {
          method: "POST",
          path: "/forms/demo",
          protect: false,
          tags: ["forms"],
          summary: "Request a demo",
          errorResponses: { 400: "Invalid input (see data.zodError.fieldErrors)", 429: "Too many requests" },
        },
      })
      .use(formsLimit)
      .input(demoSubmitInput)
      .output(formSubmitOutput)
      .mutation(async ({ ctx, input }) =>
        submitted(ctx, "demo", await forms.submitDemo(ctx, input, { ip: ctx.ip })),
      ),
  },

  submissions: {
    list: adminProcedure
      .meta({ summary: "Submissions newest first, filtered by kind and status; `nextCursor` pages on." })
      .input(listSubmissionsInput)
      .query(({ ctx, input }) => forms.listSubmissions(ctx, input)),

    get: adminProcedure
      .meta({ summary: "One submission with its notes. `NOT_FOUND` for an unknown id." })
      .input(submissionIdInput)
      .query(({ ctx, input }) => forms.getSubmission(ctx, input.id)),

    update: adminProcedure
      .meta({
        summary:
          "Sets the status (`new`, `contacted`, `qualified`, `closed`) and/or appends a note signed by the admin.",
      })
      .input(updateSubmissionInput)
      .use(writeLimit)
      .mutation(({ ctx, input }) =>
        forms.updateSubmission(ctx, input, { email: ctx.user.email, userId: ctx.user.id, ip: ctx.ip }),
      ),
  },
} satisfies TRPCRouterRecord;
