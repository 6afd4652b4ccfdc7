import { createHash } from "node:crypto";
import { DrizzlePostgreSQLAdapter } from "@lucia-auth/adapter-drizzle";
import { type Database, schema } from "@parley/db";
import { and, eq, inArray, ne } from "drizzle-orm";
import { Lucia, TimeSpan } from "lucia";

// lucia v3 is deprecated upstream: it stays behind this one module, so moving to
// hand-rolled sessions on the same tables is a change to this file only.

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  role: "user" | "admin";
  emailVerified: boolean;
  createdAt: Date;
}

export interface SessionInfo {
  id: string;
  userId: string;
  expiresAt: Date;
  createdAt: Date;
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
      role: "user" | "admin";
      emailVerified: boolean;
      createdAt: Date;
    };
  }
}

export type SessionModule = ReturnType<typeof createSessionModule>;

export function createSessionModule(db: Database, options: SessionModuleOptions) {
  const lucia = createLucia(db, options);
  const now = options.now ?? (() => new Date());

  return {
    cookieName: SESSION_COOKIE_NAME,

    async create(userId: string, meta: { userAgent?: string | null; ip?: string | null } = {}) {
      const session = await lucia.createSession(userId, {
        createdAt: now(),
        userAgent: meta.userAgent?.slice(0, 300) ?? null,
        ip: meta.ip ?? null,
      });
      return { id: session.id, expiresAt: session.expiresAt };
    },

    async validate(token: string): Promise<ValidatedSession | null> {
      const { session, user } = await lucia.validateSession(token);
      if (!session || !user) return null;
      if (session.createdAt.getTime() + options.absoluteLifetimeMs <= now().getTime()) {
        await lucia.invalidateSession(session.id);
        return null;
      }
      return {
        session: {
          id: session.id,
          userId: session.userId,
          expiresAt: session.expiresAt,
          createdAt: session.createdAt,
        },
        user: {
          id: user.id,
          email: user.email,
          displayName: user.displayName,
          role: user.role,
          emailVerified: user.emailVerified,
          createdAt: user.createdAt,
        },
        refreshed: session.fresh,
      };
    },

    /** Deletes the given sessions; returns the ids that existed. */
    async invalidate(userId: string, sessionIds: string[]): Promise<string[]> {
      if (sessionIds.length === 0) return [];
      const rows = await db
        .delete(schema.sessions)
        .where(and(eq(schema.sessions.userId, userId), inArray(schema.sessions.id, sessionIds)))
        .returning({ id: schema.sessions.id });
      return rows.map((r) => r.id);
    },

    /** Deletes every session of the user (but `exceptId`); returns the ids deleted. */
    async invalidateAll(userId: string, exceptId?: string): Promise<string[]> {
      const where = exceptId
        ? and(eq(schema.sessions.userId, userId), ne(schema.sessions.id, exceptId))
        : eq(schema.sessions.userId, userId);
      const rows = await db.delete(schema.sessions).where(where).returning({ id: schema.sessions.id });
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
