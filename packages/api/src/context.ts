import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  ConnectionState,
  EventBus,
  FanoutObserver,
  HistoryPageCache,
  MembershipCache,
  MentionEmailSettings,
  ModerationCache,
  PasswordHasher,
  PresenceTracker,
  RateLimiters,
  RoomFanout,
  SessionModule,
  SessionSockets,
  UploadSettings,
  ValidatedSession,
  WebhookAddresses,
} from "@parley/core";
import type { Database } from "@parley/db";
import { isConnectionError } from "@parley/db";
import { TRPCError } from "@trpc/server";
import type { NodeHTTPCreateContextFnOptions } from "@trpc/server/adapters/node-http";
import type { CreateWSSContextFnOptions } from "@trpc/server/adapters/ws";
import type { Logger } from "pino";

export type { ConnectionState };

/** Everything the API needs from the process, built once by the server (or a test). */
export interface ApiDeps {
  db: Database;
  bus: EventBus;
  sessions: SessionModule;
  passwords: PasswordHasher;
  log: Logger;
  clock: () => Date;
  /** The site's origin: links in emails. */
  publicOrigin: string;
  /** Mention emails: the batching window and the unsubscribe links' secret. */
  mentionEmails: MentionEmailSettings;
  /** Where notifications of new form submissions go. */
  teamAddress: string;
  limits: { subscriptionsPerConnection: number };
  rateLimiters: RateLimiters;
  membership: MembershipCache;
  moderation: ModerationCache;
  presence: PresenceTracker;
  /** Where webhooks may point: refuses private addresses unless the server allows them. */
  webhookAddresses: WebhookAddresses;
  /** Attachments: where their bytes go, the size limit, the quota, when unsent uploads expire. */
  uploads: UploadSettings;
  /** `chat.events`: one stream per room, shared by its subscribers. */
  roomFanout: RoomFanout;
  /** The newest pages of history, served again while their room and the caller's blocks are unchanged. */
  historyPages?: HistoryPageCache;
  /** Calls, subscriptions and fan-out reported to the server's logs and metrics. */
  observer?: ApiObserver;
}

export interface SessionCookieWriter {
  set(sessionId: string): void;
  clear(): void;
}

export interface Context extends ApiDeps {
  requestId: string;
  transport: "http" | "ws";
  ip: string | null;
  userAgent: string | null;
  /** The request's Origin header: browsers send one; tokens are returned only to callers without. */
  origin: string | null;
  auth: ValidatedSession | null;
  /**
   * `auth`'s user and session, set with it: `isAuthed` (trpc.ts) narrows them to non-null
   * without copying the context, which tRPC's `next({ ctx })` would do on every call.
   */
  user: ValidatedSession["user"] | null;
  session: ValidatedSession["session"] | null;
  cookies: SessionCookieWriter;
  connection: ConnectionState | null;
}

/** One procedure call as the server's logs and metrics see it. */
export interface ObservedCall {
  transport: Context["transport"];
  path: string;
  type: "query" | "mutation" | "subscription";
  /** Null when the call succeeded (a subscription: its stream opened). */
  error: TRPCError | null;
  durationMs: number;
  ctx: Context;
}

/**
 * What the API reports to whoever runs it (apps/server: its log lines and /metrics). Optional in
 * ApiDeps: tests and scripts that build deps by hand observe nothing. Called on hot paths:
 * implementations must not allocate per subscriber.
 */
export interface ApiObserver extends FanoutObserver {
  /** A query or mutation ended, or a subscription opened or was refused. */
  call(call: ObservedCall): void;
  /** Subscriptions open on this instance, +1 or -1 (any transport, any procedure). */
  subscriptionsChanged(delta: 1 | -1): void;
}

const noCookies: SessionCookieWriter = { set() {}, clear() {} };

/** A context without a request: for tests and scripts. */
export function createInnerContext(
  deps: ApiDeps,
  overrides: Partial<Omit<Context, keyof ApiDeps | "user" | "session">> = {},
): Context {
  const requestId = overrides.requestId ?? randomUUID();
  const auth = overrides.auth ?? null;
  // Every dependency named, not `{ ...deps, requestId, … }`: on Node 20's V8 an object literal
  // that spreads an object and then adds properties gets a hidden class of its own, shared with no
  // other context (and Object.assign makes a dictionary of it). A WebSocket's context lives as
  // long as the socket: measured 1.4 KiB of map, descriptors and enum cache per idle socket. A
  // literal's objects share one class, their fields inline. `satisfies` fails the build when a
  // dependency is added to ApiDeps and not here.
  return {
    db: deps.db,
    bus: deps.bus,
    sessions: deps.sessions,
    passwords: deps.passwords,
    log: deps.log.child({ requestId }),
    clock: deps.clock,
    publicOrigin: deps.publicOrigin,
    mentionEmails: deps.mentionEmails,
    teamAddress: deps.teamAddress,
    limits: deps.limits,
    rateLimiters: deps.rateLimiters,
    membership: deps.membership,
    moderation: deps.moderation,
    presence: deps.presence,
    webhookAddresses: deps.webhookAddresses,
    uploads: deps.uploads,
    roomFanout: deps.roomFanout,
    historyPages: deps.historyPages,
    observer: deps.observer,
    requestId,
    transport: "http" as Context["transport"],
    ip: null,
    userAgent: null,
    origin: null,
    cookies: noCookies,
    connection: null,
    ...overrides,
    auth,
    user: auth?.user ?? null,
    session: auth?.session ?? null,
  } satisfies { [K in keyof Required<Context>]: unknown };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function validate(deps: ApiDeps, token: string): Promise<ValidatedSession | null> {
  try {
    return await deps.sessions.validate(token);
  } catch (error) {
    if (isConnectionError(error)) {
      throw new TRPCError({
        code: "SERVICE_UNAVAILABLE",
        message: "The database is unavailable",
        cause: error,
      });
    }
    throw error;
  }
}

function requestIdOf(req: IncomingMessage): string {
  const id = (req as IncomingMessage & { id?: unknown }).id;
  return typeof id === "string" ? id : randomUUID();
}

export function createHttpContextFactory(deps: ApiDeps) {
  return async ({
    req,
    res,
  }: NodeHTTPCreateContextFnOptions<IncomingMessage, ServerResponse>): Promise<Context> => {
    const cookies: SessionCookieWriter = {
      set(sessionId) {
        res.appendHeader("Set-Cookie", deps.sessions.sessionCookie(sessionId).serialize());
      },
      clear() {
        res.appendHeader("Set-Cookie", deps.sessions.blankCookie().serialize());
      },
    };
    const bearer = deps.sessions.readBearer(header(req, "authorization"));
    const cookie = bearer ? null : deps.sessions.readCookie(header(req, "cookie"));
    const token = bearer ?? cookie;
    const auth = token ? await validate(deps, token) : null;
    if (cookie && !auth) cookies.clear();
    if (cookie && auth?.refreshed) cookies.set(auth.session.id);
    return createInnerContext(deps, {
      requestId: requestIdOf(req),
      transport: "http",
      ip: req.socket.remoteAddress ?? null,
      userAgent: header(req, "user-agent") ?? null,
      origin: header(req, "origin") ?? null,
      auth,
      cookies,
    });
  };
}

export function createWsContextFactory(deps: ApiDeps, sockets: SessionSockets) {
  return async ({ req, res: socket, info }: CreateWSSContextFnOptions): Promise<Context> => {
    const connection: ConnectionState = {
      id: randomUUID(),
      activeSubscriptions: 0,
      revoked: false,
      calls: null,
    };
    const param = info.connectionParams?.token;
    const token =
      typeof param === "string" && param.length > 0 ? param : deps.sessions.readCookie(header(req, "cookie"));
    // Track before validating: a revocation or a change of rights landing in between still
    // closes this socket.
    const tracked = token ? sockets.track(token, socket, connection) : null;
    let auth: ValidatedSession | null = null;
    try {
      auth = token ? await validate(deps, token) : null;
    } finally {
      if (auth) tracked?.admit(auth.user);
      else tracked?.untrack();
    }
    return createInnerContext(deps, {
      requestId: connection.id,
      transport: "ws",
      ip: req.socket.remoteAddress ?? null,
      userAgent: header(req, "user-agent") ?? null,
      origin: header(req, "origin") ?? null,
      auth,
      connection,
    });
  };
}
