import { authService as auth, consumePoint, mentionsService as mentions, userHandles } from "@parley/core";
import {
  changeHandleInput,
  changePasswordInput,
  loginInput,
  mentionEmailsInput,
  registerInput,
  requestPasswordResetInput,
  resetPasswordInput,
  revokeSessionInput,
  verifyEmailInput,
} from "@parley/core/schemas";
import type { TRPCRouterRecord } from "@trpc/server";
import type { Context } from "../context.ts";
import { authedProcedure, perUser, publicProcedure, rateLimit } from "../trpc.ts";

/**
 * Per client address, on the doors an attacker hammers (password guessing, account creation,
 * reset emails to a victim): counted before the input is parsed, so malformed calls count too.
 */
const authLimit = rateLimit("auth", (ctx) => ctx.ip ?? "unknown");
/** Two argon2 runs each: per user, so a stolen session cannot guess the password at leisure. */
const passwordLimit = rateLimit("password", perUser);
const writeLimit = rateLimit("write", perUser);

/**
 * Emails to one address, whoever asks: registration does not prove the address is the caller's,
 * so without this anyone could flood a stranger's inbox. Counted for unknown addresses too, so
 * the answer says nothing about whether an account exists.
 */
const emailsTo = (address: string) => `to:${address}`;
const ownEmailLimit = rateLimit("email", (ctx) => [perUser(ctx), emailsTo(ctx.auth?.user.email ?? "")]);

function clientMeta(ctx: Context): auth.ClientMeta {
  return { userAgent: ctx.userAgent, ip: ctx.ip };
}

/** Browsers (which send Origin) get only the httpOnly cookie; tools get the token to send back. */
function signedIn(ctx: Context, sessionId: string) {
  ctx.cookies.set(sessionId);
  return ctx.origin === null ? { token: sessionId } : {};
}

export const authRouter = {
  register: publicProcedure
    .meta({
      summary:
        "Creates the account (role `user`), signs in, queues a verification email. `CONFLICT` for a taken email.",
    })
    .use(authLimit)
    .input(registerInput)
    .mutation(async ({ ctx, input }) => {
      const { user, session } = await auth.register(ctx, input, clientMeta(ctx));
      return { user, ...signedIn(ctx, session.id) };
    }),

  login: publicProcedure
    .meta({
      summary:
        "Starts a new session (never reuses the one presented). Wrong email or password: the same `UNAUTHORIZED`.",
    })
    .use(authLimit)
    .input(loginInput)
    .mutation(async ({ ctx, input }) => {
      const { user, session } = await auth.login(ctx, input, clientMeta(ctx), ctx.auth?.session.id ?? null);
      return { user, ...signedIn(ctx, session.id) };
    }),

  logout: authedProcedure
    .meta({ summary: "Ends the current session, clears the cookie and closes its WebSockets." })
    .use(writeLimit)
    .mutation(async ({ ctx }) => {
      await auth.logout(ctx, ctx.user.id, ctx.session.id, clientMeta(ctx));
      ctx.cookies.clear();
      return { ok: true as const };
    }),

  me: publicProcedure
    .meta({ summary: "The signed-in user, or `null`." })
    .query(({ ctx }) => (ctx.connection?.revoked ? null : (ctx.auth?.user ?? null))),

  verifyEmail: publicProcedure
    .meta({
      summary:
        "Marks the email verified; the user's open WebSockets reconnect (4002) as verified. The token is single-use and expires after 24 h.",
    })
    .use(authLimit)
    .input(verifyEmailInput)
    .mutation(async ({ ctx, input }) => {
      await auth.verifyEmail(ctx, input.token);
      return { ok: true as const };
    }),

  resendVerification: authedProcedure
    .meta({
      summary:
        "Queues a new verification email; earlier tokens stop working. Rate-limited per user and per address.",
    })
    .use(ownEmailLimit)
    .mutation(async ({ ctx }) => {
      await auth.resendVerification(ctx, ctx.user);
      return { ok: true as const };
    }),

  requestPasswordReset: publicProcedure
    .meta({
      summary:
        "Always `{ ok: true }`; queues a reset email (valid 1 h) when the account exists. Rate-limited per IP and per address.",
    })
    .use(authLimit)
    .input(requestPasswordResetInput)
    .mutation(async ({ ctx, input }) => {
      // Here, not in a middleware: the address is in the input.
      await consumePoint(ctx.rateLimiters, "email", emailsTo(input.email));
      await auth.requestPasswordReset(ctx, input.email);
      return { ok: true as const };
    }),

  resetPassword: publicProcedure
    .meta({
      summary: "Sets the password with an emailed token (single use) and ends every session of the user.",
    })
    .use(authLimit)
    .input(resetPasswordInput)
    .mutation(async ({ ctx, input }) => {
      await auth.resetPassword(ctx, input.token, input.password, clientMeta(ctx));
      ctx.cookies.clear();
      return { ok: true as const };
    }),

  changeHandle: authedProcedure
    .meta({
      summary:
        "Sets the caller's `@handle` (2–24 of a-z, 0-9, _; case folded). One another user holds is `CONFLICT` on `handle`.",
    })
    .input(changeHandleInput)
    .use(writeLimit)
    .mutation(({ ctx, input }) => userHandles.changeHandle(ctx, ctx.user.id, input.handle)),

  preferences: authedProcedure
    .meta({ summary: "The caller's handle and whether mentions reach them by email." })
    .query(({ ctx }) => mentions.mentionPreferences(ctx, ctx.user.id)),

  setMentionEmails: authedProcedure
    .meta({
      summary:
        "Turns mention emails on or off (off also drops the digest not yet sent). The unsubscribe link in each email does the same without signing in.",
    })
    .input(mentionEmailsInput)
    .use(writeLimit)
    .mutation(async ({ ctx, input }) => {
      await mentions.setMentionEmails(ctx, ctx.user.id, input.enabled);
      return { mentionEmails: input.enabled };
    }),

  changePassword: authedProcedure
    .meta({
      summary:
        "Sets a new password; ends every session, the current one included, and starts a fresh one. Rate-limited per user.",
    })
    .use(passwordLimit)
    .input(changePasswordInput)
    .mutation(async ({ ctx, input }) => {
      const { session } = await auth.changePassword(ctx, ctx.user, input, clientMeta(ctx));
      return signedIn(ctx, session.id);
    }),

  sessions: {
    list: authedProcedure
      .meta({ summary: "The caller's sessions; `sessionId` is a handle, never the token." })
      .query(({ ctx }) => auth.listSessions(ctx, ctx.user.id, ctx.session.id)),

    revoke: authedProcedure
      .meta({ summary: "Ends one of the caller's sessions by its handle and closes its WebSockets." })
      .input(revokeSessionInput)
      .use(writeLimit)
      .mutation(async ({ ctx, input }) => {
        const { wasCurrent } = await auth.revokeSession(
          ctx,
          ctx.user.id,
          ctx.session.id,
          input.sessionId,
          clientMeta(ctx),
        );
        if (wasCurrent) ctx.cookies.clear();
        return { ok: true as const };
      }),
  },
} satisfies TRPCRouterRecord;
