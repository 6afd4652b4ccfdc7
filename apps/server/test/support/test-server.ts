import { createParleyClient, createParleyLinks, type ParleyClient } from "@parley/client";
import { defaultRateLimits, type RateLimitRules } from "@parley/core";
import { createFreshDatabase } from "@parley/testing/fresh-database";
import { createTRPCClient } from "@trpc/client";
import { pino } from "pino";
import { inject } from "vitest";
import WebSocket from "ws";
import { type ParleyServer, type ParleyServerOptions, startParleyServer } from "../../src/parley-server.ts";

export interface TestServer extends AsyncDisposable {
  server: ParleyServer;
  url: string;
  databaseUrl: string;
  /** A client authenticating with a bearer token (or none). */
  client(token?: string | (() => string | undefined)): ParleyClient;
  /** A client that keeps the session cookie like a browser, sending Origin as the server's own. */
  cookieClient(): CookieClient;
  close(): Promise<void>;
}

export interface CookieClient {
  api: ParleyClient;
  cookie(): string | undefined;
}

/**
 * The real server on port 0, over a database of its own on the test PostgreSQL. It stays in
 * apps/server (the rest of the test kit is @parley/testing) because it starts the app's own source
 * in-process; it satisfies @parley/testing's ServerUnderTest, which the fixtures take.
 */
export async function startTestServer(options: Partial<ParleyServerOptions> = {}): Promise<TestServer> {
  const database = await createFreshDatabase(inject("databaseUrl"));
  let server: ParleyServer;
  try {
    server = await startParleyServer({
      port: 0,
      host: "127.0.0.1",
      databaseUrl: database.url,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      ...options,
      // Tests sign up many users at once from one address: the per-address hash bound too.
      limits: { hashesPerKey: 1_000, ...options.limits },
      // Tests register many users from one address: limits are raised unless a test sets its own.
      rateLimits: { ...unlimited(), ...options.rateLimits },
      // Webhook receivers in tests listen on loopback.
      webhooks: { allowPrivate: true, ...options.webhooks },
      // No warm-up unless a test asks for one (pool-warmup.test.ts): a test server lives for seconds,
      // and warming its ten connections cost 0.7 s each time. One asked for starts at once and is
      // waited for: tests that count a call's statements must not count the warm-up's.
      poolWarmupDelayMs: options.poolWarmupDelayMs ?? false,
    });
    await server.poolWarmed;
  } catch (error) {
    await database.drop();
    throw error;
  }
  const url = server.url;
  const close = async () => {
    await server.close();
    await database.drop();
  };
  return {
    server,
    url,
    databaseUrl: database.url,
    client: (token) => createParleyClient({ url, token, WebSocket }),
    cookieClient: () => createCookieClient(url),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Like a browser: stores the session cookie from Set-Cookie, sends it back with its Origin. */
export function createCookieClient(url: string): CookieClient {
  let cookie: string | undefined;
  const fetchWithJar: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const [name, value = ""] = pair.split("=");
      if (name === "parley_session") cookie = value === "" ? undefined : value;
    }
    return response;
  };
  const api = createParleyClient({
    url,
    WebSocket,
    fetch: fetchWithJar,
    headers: () => ({
      origin: new URL(url).origin,
      ...(cookie ? { cookie: `parley_session=${cookie}` } : {}),
    }),
  });
  return { api, cookie: () => cookie };
}

/** A client plus its socket, for tests that watch the WebSocket itself. */
export function createSocketClient(url: string, token: string) {
  let closes: { code: number }[] = [];
  const waiters: ((event: { code: number }) => void)[] = [];
  const { links, wsClient } = createParleyLinks({
    url,
    token,
    WebSocket,
    onSocketClose: (event) => {
      closes.push(event);
      for (const resolve of waiters.splice(0)) resolve(event);
    },
  });
  return {
    api: createTRPCClient<import("@parley/api").AppRouter>({ links }),
    wsClient,
    nextClose: () => new Promise<{ code: number }>((resolve) => waiters.push(resolve)),
    closes: () => closes,
    reset: () => {
      closes = [];
    },
  };
}

const UNLIMITED = { points: 1_000_000, durationSeconds: 1 };

/** Every named limit raised, including ones added later. */
function unlimited(): RateLimitRules {
  const rules = { ...defaultRateLimits };
  for (const name of Object.keys(rules) as (keyof RateLimitRules)[]) rules[name] = UNLIMITED;
  return rules;
}
