import { createHash } from "node:crypto";
import { DrizzlePostgreSQLAdapter } from "@lucia-auth/adapter-drizzle";
import { type Database, defineStatement, type Queryable, schema } from "@parley/db";
import { USER_ROLES, type UserRole } from "@parley/db/enums";
import { and, eq, inArray, ne } from "drizzle-orm";
import { generateIdFromEntropySize, Lucia, TimeSpan } from "lucia";
import type { SessionUser } from "../../domain/auth/session-user.ts";

// lucia v3 is deprecated upstream: it stays behind this one module, so moving to
// hand-rolled sessions on the same tables is a change to this file only.

export type { SessionUser } from "../../domain/auth/session-user.ts";

/**
 * Times as milliseconds since the epoch, not Dates: a WebSocket's context keeps its session for
 * the socket's life, and a Date is 112 bytes where a number is 16 (bench workload 4).
 */
export interface SessionInfo {
  id: string;
  userId: string;
  /** The sliding idle expiry. */
  expiresAtMs: number;
  createdAtMs: number;
}

/**
 * When a long-lived connection (a WebSocket, an event stream) must validate its session again:
 * the session's idle expiry or the end of its absolute lifetime, whichever comes first.
 */
export function sessionDueAtMs(session: SessionInfo, absoluteLifetimeMs: number): number {
  return Math.min(session.expiresAtMs, session.createdAtMs + absoluteLifetimeMs);
}

export interface ValidatedSession {
  session: SessionInfo;
  user: SessionUser;
  /** lucia moved the sliding expiry forward: a cookie should be re-set. */
  refreshed: boolean;
}

export interface SessionCookie {
  name: string;
  value: string;
  serialize(): string;
}

export interface SessionModuleOptions {
  secureCookies: boolean;
  /** Sliding lifetime: an unused session dies after this. */
  idleLifetimeMs: number;
  /** Absolute lifetime from creation, however often the session is used. */
  absoluteLifetimeMs: number;
  now?: () => Date;
}

export const SESSION_COOKIE_NAME = "parley_session";

/** The non-secret handle a user sees for one of their sessions: never the token itself. */
export function sessionHandle(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex").slice(0, 32);
}

function createLucia(db: Database, options: SessionModuleOptions) {
  const adapter = new DrizzlePostgreSQLAdapter(db, schema.sessions, schema.users);
  return new Lucia(adapter, {
    sessionExpiresIn: new TimeSpan(Math.max(1, Math.round(options.idleLifetimeMs / 1000)), "s"),
    sessionCookie: {
      name: SESSION_COOKIE_NAME,
      expires: true,
      attributes: { secure: options.secureCookies, sameSite: "lax", path: "/" },
    },
    getSessionAttributes: (attributes) => ({ createdAt: attributes.createdAt }),
    getUserAttributes: (attributes) => ({
      email: attributes.email,
      displayName: attributes.displayName,
      handle: attributes.handle,
      role: attributes.role,
      emailVerified: attributes.emailVerified,
      createdAt: attributes.createdAt,
    }),
  });
}

declare module "lucia" {
  interface Register {
    Lucia: ReturnType<typeof createLucia>;
    DatabaseSessionAttributes: { createdAt: Date; userAgent?: string | null; ip?: string | null };
    DatabaseUserAttributes: {
      email: string;
      displayName: string;
      handle: string;
      role: UserRole;
      emailVerified: boolean;
      createdAt: Date;
    };
  }
}

export type SessionModule = ReturnType<typeof createSessionModule>;

interface SessionRow {
  id: string;
  userId: string;
  expiresAt: string;
  createdAt: string;
  email: string;
  displayName: string;
  handle: string;
  role: UserRole;
  emailVerified: boolean;
  userCreatedAt: string;
}

// lucia's validateSession, as one prepared statement instead of Drizzle's query builder (the
// adapter's select cost more CPU than the rest of an authenticated request). Timestamps as
// text, parsed with `new Date` as Drizzle does, so the values are exactly lucia's.
const sessionAndUser = defineStatement<SessionRow>(
  "parley_session_and_user",
  `select s.id, s.user_id as "userId", s.expires_at::text as "expiresAt", s.created_at::text as "createdAt",
          u.email, u.display_name as "displayName", u.handle, u.role::text as role,
          u.email_verified as "emailVerified", u.created_at::text as "userCreatedAt"
     from sessions s join users u on u.id = s.user_id
    where s.id = $1`,
);
// A login's session exists only if the password it checked is still the user's: the row lock
// makes this wait for a password change in progress, and then see the new hash (READ COMMITTED
// re-checks a locked row), so no session opened with an old password outlives its change.
// Without a hash to check ($7 null), for a user just created.
const insertSession = defineStatement<{ id: string }>(
  "parley_session_insert",
  `insert into sessions (id, user_id, expires_at, created_at, user_agent, ip)
   select $1, u.id, $3::timestamptz, $4::timestamptz, $5, $6
     from users u
    where u.id = $2 and ($7::text is null or u.password_hash = $7::text)
      for share of u
   returning id`,
);
const deleteSession = defineStatement("parley_session_delete", "delete from sessions where id = $1");
const extendSession = defineStatement(
  "parley_session_extend",
  "update sessions set expires_at = $2::timestamptz where id = $1",
);

export function createSessionModule(db: Database, options: SessionModuleOptions) {
  const lucia = createLucia(db, options);
  const now = options.now ?? (() => new Date());
  // As lucia computes it from the TimeSpan above.
  const expiresInMs = Math.max(1, Math.round(options.idleLifetimeMs / 1000)) * 1000;

  return {
    cookieName: SESSION_COOKIE_NAME,

    /**
     * Starts a session for the user. With `passwordHash`, only while it is still the user's
     * password: null when a password change got there first. `tx` puts the insert in the
     * caller's transaction (the login's, with its audit entry).
     */
    async create(
      userId: string,
      meta: { userAgent?: string | null; ip?: string | null } = {},
      passwordHash: string | null = null,
      tx: Queryable = db,
    ): Promise<{ id: string; expiresAt: Date } | null> {
      // As lucia makes them: 25 random bytes, base32.
      const id = generateIdFromEntropySize(25);
      const createdAt = now();
      const expiresAt = new Date(createdAt.getTime() + expiresInMs);
      const rows = await insertSession.run(tx, [
        id,
        userId,
        expiresAt.toISOString(),
        createdAt.toISOString(),
        meta.userAgent?.slice(0, 300) ?? null,
        meta.ip ?? null,
        passwordHash,
      ]);
      return rows.length === 1 ? { id, expiresAt } : null;
    },

    async validate(token: string): Promise<ValidatedSession | null> {
      const [row] = await sessionAndUser.run(db, [token]);
      if (!row) return null;
      // lucia's rules: expired sessions are deleted; past half their life, extended (and fresh).
      let expiresAt = new Date(row.expiresAt);
      const nowMs = now().getTime();
      if (nowMs >= expiresAt.getTime()) {
        await deleteSession.run(db, [row.id]);
        return null;
      }
      const createdAt = new Date(row.createdAt);
      if (createdAt.getTime() + options.absoluteLifetimeMs <= nowMs) {
        await deleteSession.run(db, [row.id]);
        return null;
      }
      let refreshed = false;
      if (nowMs >= expiresAt.getTime() - expiresInMs / 2) {
        refreshed = true;
        expiresAt = new Date(nowMs + expiresInMs);
        await extendSession.run(db, [row.id, expiresAt.toISOString()]);
      }
      return {
        // The token itself, equal to row.id (the statement's key): a WebSocket's session tracking
        // keeps the token, and one string serves both for the socket's life.
        session: {
          id: token,
          userId: row.userId,
          expiresAtMs: expiresAt.getTime(),
          createdAtMs: createdAt.getTime(),
        },
        user: {
          id: row.userId,
          email: row.email,
          displayName: row.displayName,
          handle: row.handle,
          // The enum's own string, not the row's copy: a WebSocket's context keeps it.
          role: USER_ROLES.find((role) => role === row.role) ?? row.role,
          emailVerified: row.emailVerified,
          createdAt: new Date(row.userCreatedAt),
        },
        refreshed,
      };
    },

    /** Deletes the given sessions; returns the ids that existed. `tx`: as in invalidateAll. */
    async invalidate(userId: string, sessionIds: string[], tx: Queryable = db): Promise<string[]> {
      if (sessionIds.length === 0) return [];
      const rows = await tx
        .delete(schema.sessions)
        .where(and(eq(schema.sessions.userId, userId), inArray(schema.sessions.id, sessionIds)))
        .returning({ id: schema.sessions.id });
      return rows.map((r) => r.id);
    },

    /**
     * Deletes every session of the user (but `exceptId`); returns the ids deleted. `tx` puts the
     * deletion in the caller's transaction, e.g. the one that changes the password.
     */
    async invalidateAll(userId: string, exceptId?: string, tx: Queryable = db): Promise<string[]> {
      const where = exceptId
        ? and(eq(schema.sessions.userId, userId), ne(schema.sessions.id, exceptId))
        : eq(schema.sessions.userId, userId);
      const rows = await tx.delete(schema.sessions).where(where).returning({ id: schema.sessions.id });
      return rows.map((r) => r.id);
    },

    async listForUser(userId: string) {
      return db
        .select({
          id: schema.sessions.id,
          createdAt: schema.sessions.createdAt,
          expiresAt: schema.sessions.expiresAt,
          userAgent: schema.sessions.userAgent,
          ip: schema.sessions.ip,
        })
        .from(schema.sessions)
        .where(eq(schema.sessions.userId, userId))
        .orderBy(schema.sessions.createdAt);
    },

    readCookie(cookieHeader: string | undefined): string | null {
      return cookieHeader ? lucia.readSessionCookie(cookieHeader) : null;
    },

    readBearer(authorizationHeader: string | undefined): string | null {
      return authorizationHeader ? lucia.readBearerToken(authorizationHeader) : null;
    },

    sessionCookie(sessionId: string): SessionCookie {
      return lucia.createSessionCookie(sessionId);
    },

    blankCookie(): SessionCookie {
      return lucia.createBlankSessionCookie();
    },
  };
}
