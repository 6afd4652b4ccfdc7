import { schema } from "@parley/db";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRawSocket } from "./support/raw-socket.ts";
import { GOOD_PASSWORD, startTestServer, type TestServer, uniqueEmail } from "./support/test-server.ts";

const FOREIGN = "https://evil.example";
const ALLOWED = "https://app.example";

let t: TestServer;
let sessionCookie: string;
beforeAll(async () => {
  t = await startTestServer({ allowedOrigins: [ALLOWED] });
  const { token } = await t.client().auth.register.mutate({
    email: uniqueEmail(),
    password: GOOD_PASSWORD,
    displayName: "Victim",
  });
  sessionCookie = `parley_session=${token}`;
});
afterAll(() => t.close());

async function userCount() {
  const [row] = await t.server.deps.db.select({ n: count() }).from(schema.users);
  return row?.n ?? 0;
}

const registerBody = () => ({ json: { email: uniqueEmail(), password: GOOD_PASSWORD, displayName: "CSRF" } });

describe("state-changing HTTP calls from a foreign Origin", () => {
  const bodies: [string, () => { type: string; body: string | FormData }][] = [
    ["JSON", () => ({ type: "application/json", body: JSON.stringify(registerBody()) })],
    [
      "form-encoded",
      () => ({
        type: "application/x-www-form-urlencoded",
        body: `json=${encodeURIComponent(JSON.stringify(registerBody().json))}`,
      }),
    ],
    [
      "multipart",
      () => {
        const form = new FormData();
        for (const [k, v] of Object.entries(registerBody().json)) form.append(k, v);
        return { type: "", body: form };
      },
    ],
    ["text/plain", () => ({ type: "text/plain", body: JSON.stringify(registerBody()) })],
  ];

  for (const [name, make] of bodies) {
    it(`refuses a ${name} mutation carrying the session cookie with 403 and changes nothing`, async () => {
      const before = await userCount();
      const { type, body } = make();
      const response = await fetch(`${t.url}/trpc/auth.register`, {
        method: "POST",
        headers: { origin: FOREIGN, cookie: sessionCookie, ...(type ? { "content-type": type } : {}) },
        body,
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
        "FORBIDDEN",
      );
      expect(await userCount()).toBe(before);
    });
  }

  it("refuses logout from a foreign origin: the session survives", async () => {
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { origin: FOREIGN, cookie: sessionCookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(403);
    const me = await fetch(`${t.url}/trpc/auth.me`, { headers: { cookie: sessionCookie } });
    expect(JSON.stringify(await me.json())).toContain("Victim");
  });

  it("refuses a cookie-carrying mutation with neither Origin nor Referer", async () => {
    const response = await fetch(`${t.url}/trpc/auth.logout`, {
      method: "POST",
      headers: { cookie: sessionCookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(403);
  });

  it("refuses a same-origin multipart or text/plain mutation with 415: only JSON is taken", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const response = await fetch(`${t.url}/trpc/auth.register`, {
        method: "POST",
        headers: { origin: new URL(t.url).origin, "content-type": type },
        body: JSON.stringify(registerBody()),
      });
      expect(response.status).toBe(415);
    }
  });

  it("accepts the same call from the allowed and the same origin, and from a tool without Origin", async () => {
    for (const headers of [{ origin: ALLOWED }, { origin: new URL(t.url).origin }, {}] as Record<
      string,
      string
    >[]) {
      const response = await fetch(`${t.url}/trpc/auth.register`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(registerBody()),
      });
      expect(response.status).toBe(200);
    }
  });

  it("answers CORS preflights for the allowed origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${t.url}/trpc/auth.login`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
    expect((await preflight(ALLOWED)).headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect((await preflight(FOREIGN)).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("WebSocket upgrades", () => {
  it("refuses an upgrade from a foreign Origin with 403", async () => {
    await expect(openRawSocket(t.url, { origin: FOREIGN })).rejects.toThrow(/403/);
    await expect(
      openRawSocket(t.url, { origin: FOREIGN, headers: { cookie: sessionCookie } }),
    ).rejects.toThrow(/403/);
  });

  it("accepts upgrades from the allowed origin, the same origin, and tools without Origin", async () => {
    for (const origin of [ALLOWED, new URL(t.url).origin, undefined]) {
      const socket = await openRawSocket(t.url, origin ? { origin } : {});
      const me = await socket.call("query", "auth.me");
      expect(me.result?.data?.json).toBeNull();
      socket.close();
    }
  });

  it("refuses upgrades on any path but /trpc", async () => {
    const WebSocket = (await import("ws")).default;
    const socket = new WebSocket(`${t.url.replace("http", "ws")}/elsewhere`);
    const status = await new Promise<number>((resolve) =>
      socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
  });
});
