import { randomUUID } from "node:crypto";
import { type Database, schema } from "@parley/db";
import { and, eq, gt } from "drizzle-orm";
import type { PasswordHasher } from "../auth/password-hasher.ts";
import type { SessionModule, SessionUser } from "../auth/session-module.ts";
import { sessionHandle } from "../auth/session-module.ts";
import { hashToken, newEmailToken } from "../auth/tokens.ts";
import { type EventBus, publishUsersChanged, type RevokedSessionsEvent, topics } from "../bus/event-bus.ts";
import type { ChangePasswordInput, LoginInput, RegisterInput } from "../schemas/auth.ts";
import { enqueueEmail } from "./email-outbox.ts";

export interface AuthServiceDeps {
  db: Database;
  bus: EventBus;
  sessions: SessionModule;
  passwords: PasswordHasher;
  clock: () => Date;
  /** Base of the links in emails, e.g. https://chat.example.com */
  publicOrigin: string;
}

export interface ClientMeta {
  userAgent?: string | null;
  ip?: string | null;
}

/** Domain outcomes the transport maps to its own errors. */
export class AuthError extends Error {
  constructor(
    readonly reason:
      | "email-taken"
      | "bad-credentials"
      | "wrong-current-password"
      | "invalid-token"
      | "already-verified"
      | "session-not-found"
      | "password-is-email",
    message: string,
    /** The input field the error belongs to, for forms. */
    readonly field?: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

const VERIFICATION_LIFETIME_MS = 24 * 60 * 60 * 1000;
const RESET_LIFETIME_MS = 60 * 60 * 1000;
const UNIQUE_VIOLATION = "23505";

function userColumns() {
  return {
    id: schema.users.id,
    email: schema.users.email,
    displayName: schema.users.displayName,
    role: schema.users.role,
    emailVerified: schema.users.emailVerified,
    createdAt: schema.users.createdAt,
  };
}

async function publishRevoked(deps: AuthServiceDeps, sessionIds: string[]) {
  if (sessionIds.length === 0) return;
  const event: RevokedSessionsEvent = { sessionIds };
  await deps.bus.publish(topics.revokedSessions, event);
}

function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === UNIQUE_VIOLATION) return true;
  }
  return false;
}

async function issueVerificationEmail(
  deps: AuthServiceDeps,
  db: Parameters<typeof enqueueEmail>[0],
  user: { id: string; email: string; displayName: string },
) {
  const token = newEmailToken();
  await db.insert(schema.emailVerificationTokens).values({
    tokenHash: hashToken(token),
    userId: user.id,
    email: user.email,
    expiresAt: new Date(deps.clock().getTime() + VERIFICATION_LIFETIME_MS),
  });
  await enqueueEmail(db, user.email, {
    template: "verify-email",
    data: { displayName: user.displayName, url: `${deps.publicOrigin}/verify-email?token=${token}` },
  });
}

export async function register(deps: AuthServiceDeps, input: RegisterInput, meta: ClientMeta) {
  const passwordHash = await deps.passwords.hash(input.password);
  const id = randomUUID();
  let user: SessionUser;
  try {
    user = await deps.db.transaction(async (tx) => {
      const [created] = await tx
        .insert(schema.users)
        .values({ id, email: input.email, displayName: input.displayName, passwordHash })
        .returning(userColumns());
      if (!created) throw new Error("insert returned no row");
      await issueVerificationEmail(deps, tx, created);
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AuthError("email-taken", "An account with this email already exists");
    }
    throw error;
  }
  const session = await deps.sessions.create(user.id, meta);
  return { user, session };
}

export async function login(
  deps: AuthServiceDeps,
  input: LoginInput,
  meta: ClientMeta,
  presentedSessionId: string | null,
) {
  const [row] = await deps.db
    .select({ ...userColumns(), passwordHash: schema.users.passwordHash })
    .from(schema.users)
    .where(eq(schema.users.email, input.email));
  // An unknown email still costs one argon2 verify: timing does not reveal accounts.
  const ok = await deps.passwords.verify(row?.passwordHash ?? null, input.password);
  if (!row || !ok) throw new AuthError("bad-credentials", "Wrong email or password");
  const { passwordHash: _, ...user } = row;
  // Never keep a session presented before login (fixation): end it, start a new one.
  if (presentedSessionId) {
    await publishRevoked(deps, await deps.sessions.invalidate(user.id, [presentedSessionId]));
  }
  const session = await deps.sessions.create(user.id, meta);
  return { user, session };
}

export async function logout(deps: AuthServiceDeps, userId: string, sessionId: string) {
  await publishRevoked(deps, await deps.sessions.invalidate(userId, [sessionId]));
}

/**
 * Ends every session of the user, the current one included, and starts a fresh one for the
 * caller: an attacker holding any old session id, even the caller's, loses it.
 */
export async function changePassword(
  deps: AuthServiceDeps,
  user: SessionUser,
  input: ChangePasswordInput,
  meta: ClientMeta,
) {
  if (input.newPassword.trim().toLowerCase() === user.email) {
    throw new AuthError("password-is-email", "Must not be your email address", "newPassword");
  }
  const [row] = await deps.db
    .select({ passwordHash: schema.users.passwordHash })
    .from(schema.users)
    .where(eq(schema.users.id, user.id));
  const ok = await deps.passwords.verify(row?.passwordHash ?? null, input.currentPassword);
  if (!ok) throw new AuthError("wrong-current-password", "The current password is wrong");
  const passwordHash = await deps.passwords.hash(input.newPassword);
  await deps.db
    .update(schema.users)
    .set({ passwordHash, updatedAt: deps.clock() })
    .where(eq(schema.users.id, user.id));
  await publishRevoked(deps, await deps.sessions.invalidateAll(user.id));
  const session = await deps.sessions.create(user.id, meta);
  return { session };
}

export async function verifyEmail(deps: AuthServiceDeps, token: string) {
  const verified = await deps.db.transaction(async (tx) => {
    // Delete-returning makes the token single-use even under concurrent attempts.
    const [row] = await tx
      .delete(schema.emailVerificationTokens)
      .where(eq(schema.emailVerificationTokens.tokenHash, hashToken(token)))
      .returning();
    if (!row || row.expiresAt <= deps.clock()) return null;
    const [updated] = await tx
      .update(schema.users)
      .set({ emailVerified: true, updatedAt: deps.clock() })
      .where(and(eq(schema.users.id, row.userId), eq(schema.users.email, row.email)))
      .returning({ id: schema.users.id });
    return updated?.id ?? null;
  });
  if (!verified) throw new AuthError("invalid-token", "This verification link is invalid or has expired");
  // Sockets opened before verifying reconnect with the verified user.
  await publishUsersChanged(deps.bus, [verified]);
}

export async function resendVerification(deps: AuthServiceDeps, user: SessionUser) {
  if (user.emailVerified) throw new AuthError("already-verified", "This email is already verified");
  await deps.db.transaction(async (tx) => {
    await tx.delete(schema.emailVerificationTokens).where(eq(schema.emailVerificationTokens.userId, user.id));
    await issueVerificationEmail(deps, tx, user);
  });
}

/** Succeeds whether or not the account exists, so the answer reveals nothing. */
export async function requestPasswordReset(deps: AuthServiceDeps, email: string) {
  const [user] = await deps.db
    .select({ id: schema.users.id, email: schema.users.email, displayName: schema.users.displayName })
    .from(schema.users)
    .where(eq(schema.users.email, email));
  if (!user) return;
  const token = newEmailToken();
  await deps.db.transaction(async (tx) => {
    await tx.insert(schema.passwordResetTokens).values({
      tokenHash: hashToken(token),
      userId: user.id,
      expiresAt: new Date(deps.clock().getTime() + RESET_LIFETIME_MS),
    });
    await enqueueEmail(tx, user.email, {
      template: "password-reset",
      data: { displayName: user.displayName, url: `${deps.publicOrigin}/reset-password?token=${token}` },
    });
  });
}

export async function resetPassword(deps: AuthServiceDeps, token: string, password: string) {
  const [found] = await deps.db
    .select({ userId: schema.passwordResetTokens.userId, email: schema.users.email })
    .from(schema.passwordResetTokens)
    .innerJoin(schema.users, eq(schema.users.id, schema.passwordResetTokens.userId))
    .where(
      and(
        eq(schema.passwordResetTokens.tokenHash, hashToken(token)),
        gt(schema.passwordResetTokens.expiresAt, deps.clock()),
      ),
    );
  if (!found) throw new AuthError("invalid-token", "This reset link is invalid or has expired");
  if (password.trim().toLowerCase() === found.email) {
    throw new AuthError("password-is-email", "Must not be your email address", "password");
  }
  const passwordHash = await deps.passwords.hash(password);
  const done = await deps.db.transaction(async (tx) => {
    // Every reset token of the user goes: the one used, and any older ones.
    const used = await tx
      .delete(schema.passwordResetTokens)
      .where(
        and(
          eq(schema.passwordResetTokens.userId, found.userId),
          eq(schema.passwordResetTokens.tokenHash, hashToken(token)),
        ),
      )
      .returning({ userId: schema.passwordResetTokens.userId });
    if (used.length === 0) return false;
    await tx.delete(schema.passwordResetTokens).where(eq(schema.passwordResetTokens.userId, found.userId));
    await tx
      .update(schema.users)
      .set({ passwordHash, updatedAt: deps.clock() })
      .where(eq(schema.users.id, found.userId));
    return true;
  });
  if (!done) throw new AuthError("invalid-token", "This reset link is invalid or has expired");
  await publishRevoked(deps, await deps.sessions.invalidateAll(found.userId));
}

export async function listSessions(deps: AuthServiceDeps, userId: string, currentSessionId: string) {
  const rows = await deps.sessions.listForUser(userId);
  return rows.map((row) => ({
    sessionId: sessionHandle(row.id),
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    userAgent: row.userAgent,
    ip: row.ip,
    current: row.id === currentSessionId,
  }));
}

/** Revokes one of the user's sessions by its handle; returns whether it was the current one. */
export async function revokeSession(
  deps: AuthServiceDeps,
  userId: string,
  currentSessionId: string,
  handle: string,
) {
  const rows = await deps.sessions.listForUser(userId);
  const target = rows.find((row) => sessionHandle(row.id) === handle);
  if (!target) throw new AuthError("session-not-found", "No such session");
  await publishRevoked(deps, await deps.sessions.invalidate(userId, [target.id]));
  return { wasCurrent: target.id === currentSessionId };
}
