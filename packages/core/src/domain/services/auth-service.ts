import { randomUUID } from "node:crypto";
import { type Database, defineStatement, schema } from "@parley/db";
import { and, eq, gt } from "drizzle-orm";
import type { Logger } from "pino";
import type { HashKeys, PasswordHasher } from "../../infra/auth/password-hasher.ts";
import type { SessionModule, SessionUser } from "../../infra/auth/session-module.ts";
import { sessionHandle } from "../../infra/auth/session-module.ts";
import { hashToken, newEmailToken } from "../auth/tokens.ts";
import { type EventBus, publishUsersChanged, type RevokedSessionsEvent, topics } from "../bus/event-bus.ts";
import { DomainError } from "../errors.ts";
import type { ChangePasswordInput, LoginInput, RegisterInput } from "../schemas/auth.ts";
import { recordAudit } from "./audit-log.ts";
import { DEFAULT_MAX_ATTEMPTS, type EmailTemplate, enqueueEmail } from "./email-outbox.ts";
import { isHandleTaken, withFreeHandle } from "./user-handles.ts";

export interface AuthServiceDeps {
  db: Database;
  bus: EventBus;
  sessions: SessionModule;
  passwords: PasswordHasher;
  clock: () => Date;
  /** Base of the links in emails, e.g. https://chat.example.com */
  publicOrigin: string;
  log: Logger;
}

export interface ClientMeta {
  userAgent?: string | null;
  ip?: string | null;
}

const VERIFICATION_LIFETIME_MS = 24 * 60 * 60 * 1000;
const RESET_LIFETIME_MS = 60 * 60 * 1000;
const UNIQUE_VIOLATION = "23505";

function userColumns() {
  return {
    id: schema.users.id,
    email: schema.users.email,
    displayName: schema.users.displayName,
    handle: schema.users.handle,
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

/** The hasher's fairness keys: the account first (its lane), then the client address. */
function hashKeys(email: string, meta: ClientMeta): HashKeys {
  return meta.ip ? [`account:${email}`, `ip:${meta.ip}`] : [`account:${email}`];
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
  const passwordHash = await deps.passwords.hash(input.password, hashKeys(input.email, meta));
  const id = randomUUID();
  let user: SessionUser;
  try {
    user = await deps.db.transaction(async (tx) => {
      const [created] = await withFreeHandle(tx, input.displayName, (db, handle) =>
        db
          .insert(schema.users)
          .values({ id, email: input.email, displayName: input.displayName, handle, passwordHash })
          .returning(userColumns()),
      );
      if (!created) throw new Error("insert returned no row");
      await issueVerificationEmail(deps, tx, created);
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error) && !isHandleTaken(error)) {
      throw new DomainError("conflict", "An account with this email already exists");
    }
    throw error;
  }
  const session = await deps.sessions.create(user.id, meta);
  if (!session) throw new Error("the new user has gone");
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
  const ok = await deps.passwords.verify(
    row?.passwordHash ?? null,
    input.password,
    hashKeys(input.email, meta),
  );
  if (!row || !ok) {
    // For whoever watches for password guessing: the account (never the email or the password)
    // and the address. An unknown email has no account to name.
    deps.log.warn({ userId: row?.id ?? null, ip: meta.ip ?? null }, "login failed: wrong email or password");
    // One small row per attempt, never the email typed (it is sometimes a password) nor the
    // password: the `auth` rate limit (per address, counted before the input is parsed) bounds
    // how fast a flood of wrong passwords can grow the log, and retention removes it.
    await recordAudit(deps.db, {
      action: "auth.login_failed",
      actorId: null,
      ...(row ? { targetType: "user" as const, targetId: row.id } : {}),
      ip: meta.ip ?? null,
      details: { knownAccount: row !== undefined },
      at: deps.clock(),
    });
    throw new DomainError("unauthenticated", "Wrong email or password");
  }
  const { passwordHash, ...user } = row;
  // Never keep a session presented before login (fixation): end it, start a new one.
  if (presentedSessionId) {
    await publishRevoked(deps, await deps.sessions.invalidate(user.id, [presentedSessionId]));
  }
  // Only while the password just checked is still the user's: a change or reset that committed
  // meanwhile has already ended the user's sessions, and this one must not outlive it.
  const session = await deps.db.transaction(async (tx) => {
    const created = await deps.sessions.create(user.id, meta, passwordHash, tx);
    if (created) {
      await recordAudit(tx, {
        action: "auth.login",
        actorId: user.id,
        targetType: "user",
        targetId: user.id,
        ip: meta.ip ?? null,
        at: deps.clock(),
      });
    }
    return created;
  });
  if (!session) throw new DomainError("unauthenticated", "Wrong email or password");
  return { user, session };
}

export async function logout(
  deps: AuthServiceDeps,
  userId: string,
  sessionId: string,
  meta: ClientMeta = {},
) {
  const ended = await deps.db.transaction(async (tx) => {
    const ids = await deps.sessions.invalidate(userId, [sessionId], tx);
    // A logout racing another one (or a revoke) ended nothing: only the one that did is recorded.
    if (ids.length > 0) {
      await recordAudit(tx, {
        action: "auth.logout",
        actorId: userId,
        targetType: "session",
        targetId: sessionHandle(sessionId),
        ip: meta.ip ?? null,
        at: deps.clock(),
      });
    }
    return ids;
  });
  await publishRevoked(deps, ended);
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
    throw new DomainError("invalid", "Must not be your email address", "newPassword");
  }
  const [row] = await deps.db
    .select({ passwordHash: schema.users.passwordHash })
    .from(schema.users)
    .where(eq(schema.users.id, user.id));
  const keys = hashKeys(user.email, meta);
  const currentHash = row?.passwordHash ?? null;
  const ok = await deps.passwords.verify(currentHash, input.currentPassword, keys);
  if (!ok || !currentHash) throw new DomainError("forbidden", "The current password is wrong");
  const passwordHash = await deps.passwords.hash(input.newPassword, keys);
  const revoked = await deps.db.transaction(async (tx) => {
    // Only over the password just checked: a reset that landed meanwhile wins.
    const changed = await tx
      .update(schema.users)
      .set({ passwordHash, updatedAt: deps.clock() })
      .where(and(eq(schema.users.id, user.id), eq(schema.users.passwordHash, currentHash)))
      .returning({ id: schema.users.id });
    if (changed.length === 0) return null;
    // In the same transaction: a login that checked the old password either committed its
    // session before this (and it is deleted here) or finds the new hash (see sessions.create).
    const ended = await deps.sessions.invalidateAll(user.id, undefined, tx);
    await recordAudit(tx, {
      action: "auth.password_changed",
      actorId: user.id,
      targetType: "user",
      targetId: user.id,
      ip: meta.ip ?? null,
      details: { sessionsEnded: ended.length },
      at: deps.clock(),
    });
    return ended;
  });
  if (!revoked) throw new DomainError("forbidden", "The current password is wrong");
  await publishRevoked(deps, revoked);
  const session = await deps.sessions.create(user.id, meta, passwordHash);
  if (!session) throw new DomainError("forbidden", "The password was changed meanwhile");
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
  if (!verified) throw new DomainError("invalid", "This verification link is invalid or has expired");
  // Sockets opened before verifying reconnect with the verified user.
  await publishUsersChanged(deps.bus, [verified]);
}

export async function resendVerification(deps: AuthServiceDeps, user: SessionUser) {
  if (user.emailVerified) throw new DomainError("invalid", "This email is already verified");
  await deps.db.transaction(async (tx) => {
    await tx.delete(schema.emailVerificationTokens).where(eq(schema.emailVerificationTokens.userId, user.id));
    await issueVerificationEmail(deps, tx, user);
  });
}

// The token and its email, inserted only when the account exists, in one statement: an unknown
// address costs the same single round trip as a known one, so timing does not reveal accounts.
// The data matches the password-reset template's ({ displayName, url }).
const insertResetRequest = defineStatement(
  "parley_password_reset_request",
  `with target as (select id, email, display_name from users where email = $1),
        token as (
          insert into password_reset_tokens (token_hash, user_id, expires_at)
          select $2, id, $3::timestamptz from target
        )
   insert into email_outbox (template, to_address, data, max_attempts)
   select $6, email, jsonb_build_object('displayName', display_name, 'url', $4::text), $5::int
     from target`,
);
const RESET_TEMPLATE: EmailTemplate["template"] = "password-reset";

/** Succeeds whether or not the account exists, so the answer reveals nothing. */
export async function requestPasswordReset(deps: AuthServiceDeps, email: string) {
  const token = newEmailToken();
  await insertResetRequest.run(deps.db, [
    email,
    hashToken(token),
    new Date(deps.clock().getTime() + RESET_LIFETIME_MS).toISOString(),
    `${deps.publicOrigin}/reset-password?token=${token}`,
    DEFAULT_MAX_ATTEMPTS,
    RESET_TEMPLATE,
  ]);
}

export async function resetPassword(
  deps: AuthServiceDeps,
  token: string,
  password: string,
  meta: ClientMeta = {},
) {
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
  if (!found) throw new DomainError("invalid", "This reset link is invalid or has expired");
  if (password.trim().toLowerCase() === found.email) {
    throw new DomainError("invalid", "Must not be your email address", "password");
  }
  const passwordHash = await deps.passwords.hash(password, hashKeys(found.email, meta));
  const revoked = await deps.db.transaction(async (tx) => {
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
    if (used.length === 0) return null;
    await tx.delete(schema.passwordResetTokens).where(eq(schema.passwordResetTokens.userId, found.userId));
    await tx
      .update(schema.users)
      .set({ passwordHash, updatedAt: deps.clock() })
      .where(eq(schema.users.id, found.userId));
    // After the update, in its transaction: see changePassword.
    const ended = await deps.sessions.invalidateAll(found.userId, undefined, tx);
    // The token's holder acts as the account's owner: the actor is the user.
    await recordAudit(tx, {
      action: "auth.password_reset",
      actorId: found.userId,
      targetType: "user",
      targetId: found.userId,
      ip: meta.ip ?? null,
      details: { sessionsEnded: ended.length },
      at: deps.clock(),
    });
    return ended;
  });
  if (!revoked) throw new DomainError("invalid", "This reset link is invalid or has expired");
  await publishRevoked(deps, revoked);
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
  meta: ClientMeta = {},
) {
  const rows = await deps.sessions.listForUser(userId);
  const target = rows.find((row) => sessionHandle(row.id) === handle);
  if (!target) throw new DomainError("not-found", "No such session");
  const wasCurrent = target.id === currentSessionId;
  const ended = await deps.db.transaction(async (tx) => {
    const ids = await deps.sessions.invalidate(userId, [target.id], tx);
    if (ids.length > 0) {
      await recordAudit(tx, {
        action: "auth.session_revoked",
        actorId: userId,
        targetType: "session",
        targetId: handle,
        ip: meta.ip ?? null,
        details: { wasCurrent },
        at: deps.clock(),
      });
    }
    return ids;
  });
  await publishRevoked(deps, ended);
  return { wasCurrent };
}
