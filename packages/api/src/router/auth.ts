import type { TRPCRouterRecord } from "@trpc/server";
import type { Context } from "../context.ts";
import {
  changePasswordInput,
  loginInput,
  registerInput,
  requestPasswordResetInput,
  resetPasswordInput,
  revokeSessionInput,
  verifyEmailInput,
} from "../schemas/auth.ts";
import * as auth from "../services/auth-service.ts";
import { authedProcedure, publicProcedure } from "../trpc.ts";

function clientMeta(ctx: Context): auth.ClientMeta {
  return { userAgent: ctx.userAgent, ip: ctx.ip };
}

/** Browsers (which send Origin) get only the httpOnly cookie; tools get the token to send back. */
function signedIn(ctx: Context, sessionId: string) {
  ctx.cookies.set(sessionId);
  return ctx.origin === null ? { token: sessionId } : {};
}

export const authRouter = {
  register: publicProcedure.input(registerInput).mutation(async ({ ctx, input }) => {
    const { user, session } = await auth.register(ctx, input, clientMeta(ctx));
    return { user, ...signedIn(ctx, session.id) };
  }),

  login: publicProcedure.input(loginInput).mutation(async ({ ctx, input }) => {
    const { user, session } = await auth.login(ctx, input, clientMeta(ctx), ctx.auth?.session.id ?? null);
    return { user, ...signedIn(ctx, session.id) };
  }),

  logout: authedProcedure.mutation(async ({ ctx }) => {
    await auth.logout(ctx, ctx.user.id, ctx.session.id);
    ctx.cookies.clear();
    return { ok: true as const };
  }),

  me: publicProcedure.query(({ ctx }) => (ctx.connection?.revoked ? null : (ctx.auth?.user ?? null))),

  verifyEmail: publicProcedure.input(verifyEmailInput).mutation(async ({ ctx, input }) => {
    await auth.verifyEmail(ctx, input.token);
    return { ok: true as const };
  }),

  resendVerification: authedProcedure.mutation(async ({ ctx }) => {
    await auth.resendVerification(ctx, ctx.user);
    return { ok: true as const };
  }),

  requestPasswordReset: publicProcedure.input(requestPasswordResetInput).mutation(async ({ ctx, input }) => {
    await auth.requestPasswordReset(ctx, input.email);
    return { ok: true as const };
  }),

  resetPassword: publicProcedure.input(resetPasswordInput).mutation(async ({ ctx, input }) => {
    await auth.resetPassword(ctx, input.token, input.password);
    ctx.cookies.clear();
    return { ok: true as const };
  }),

  changePassword: authedProcedure.input(changePasswordInput).mutation(async ({ ctx, input }) => {
    const { session } = await auth.changePassword(ctx, ctx.user, input, clientMeta(ctx));
    return signedIn(ctx, session.id);
  }),

  sessions: {
    list: authedProcedure.query(({ ctx }) => auth.listSessions(ctx, ctx.user.id, ctx.session.id)),

    revoke: authedProcedure.input(revokeSessionInput).mutation(async ({ ctx, input }) => {
      const { wasCurrent } = await auth.revokeSession(ctx, ctx.user.id, ctx.session.id, input.sessionId);
      if (wasCurrent) ctx.cookies.clear();
      return { ok: true as const };
    }),
  },
} satisfies TRPCRouterRecord;
