import type { IncomingMessage } from "node:http";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { openRawSocket } from "@parley/testing/raw-socket";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOriginPolicy } from "../src/origin-policy.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

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

async function roomCount() {
  const [row] = await t.server.deps.db.select({ n: count() }).from(schema.rooms);
  return row?.n ?? 0;
}

const roomBody = () => ({ json: { name: "Forged", isPrivate: false } });

/** What an HTML form posting to chat.rooms.create with enctype="multipart/form-data" sends. */
function roomForm() {
  const form = new FormData();
  form.append("name", "Forged");
  form.append("isPrivate", "false");
  return form;
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

  it("refuses a multipart/form-data, text/plain or form-encoded mutation carrying the session cookie, cross-site or same-origin, and writes nothing", async () => {
    const forms = [
      ["multipart/form-data", roomForm()],
      ["text/plain", JSON.stringify(roomBody())],
      ["application/x-www-form-urlencoded", `json=${encodeURIComponent(JSON.stringify(roomBody().json))}`],
    ] as const;
    const before = await roomCount();
    for (const [type, body] of forms) {
      // A cross-site HTML form: its Origin is the attacker's. The body's type alone is refused too,
      // in case a browser sends no Origin and a Referer the policy lets through.
      for (const [origin, status] of [
        [FOREIGN, 403],
        [new URL(t.url).origin, 415],
      ] as const) {
        const response = await fetch(`${t.url}/trpc/chat.rooms.create`, {
          method: "POST",
          // fetch sets multipart/form-data with its boundary for a FormData body.
          headers: {
            origin,
            cookie: sessionCookie,
            ...(typeof body === "string" ? { "content-type": type } : {}),
          },
          body,
        });
        expect({ type, origin, status: response.status }).toEqual({ type, origin, status });
      }
    }
    expect(await roomCount()).toBe(before);
  });

  it("refuses a cookie-carrying mutation without Origin whose Referer is foreign or malformed, and writes nothing", async () => {
    const before = await roomCount();
    for (const referer of [`${FOREIGN}/page`, `${FOREIGN.replace("https", "http")}/`, "not a url"]) {
      const response = await fetch(`${t.url}/trpc/chat.rooms.create`, {
        method: "POST",
        headers: { referer, cookie: sessionCookie, "content-type": "application/json" },
        body: JSON.stringify(roomBody()),
      });
      expect({ referer, status: response.status }).toEqual({ referer, status: 403 });
    }
    expect(await roomCount()).toBe(before);
  });

  it("admits a cookie-carrying mutation without Origin whose Referer is the allowed or the same origin", async () => {
    const before = await roomCount();
    for (const referer of [`${ALLOWED}/rooms`, `${new URL(t.url).origin}/rooms/1?x=1`]) {
      const response = await fetch(`${t.url}/trpc/chat.rooms.create`, {
        method: "POST",
        headers: { referer, cookie: sessionCookie, "content-type": "application/json" },
        body: JSON.stringify(roomBody()),
      });
      expect({ referer, status: response.status }).toEqual({ referer, status: 200 });
    }
    expect(await roomCount()).toBe(before + 2);
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

  it("refuses a cookie-carrying upgrade without Origin whose Referer is foreign or malformed", async () => {
    for (const referer of [`${FOREIGN}/page`, "not a url"]) {
      await expect(openRawSocket(t.url, { headers: { cookie: sessionCookie, referer } })).rejects.toThrow(
        /403/,
      );
    }
  });

  it("admits a cookie-carrying upgrade without Origin whose Referer is the allowed or the same origin, signed in", async () => {
    for (const referer of [`${ALLOWED}/rooms`, `${new URL(t.url).origin}/`]) {
      const socket = await openRawSocket(t.url, { headers: { cookie: sessionCookie, referer } });
      const me = await socket.call("query", "auth.me");
      expect(JSON.stringify(me.result?.data?.json)).toContain("Victim");
      socket.close();
    }
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

describe("the origin policy on its own", () => {
  const policy = createOriginPolicy("https://parley.example", [ALLOWED]);
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it("takes an Origin equal to the Host only over http or https", () => {
    expect(policy.isAllowed("http://chat.local:8080", "chat.local:8080")).toBe(true);
    expect(policy.isAllowed("https://chat.local:8080", "chat.local:8080")).toBe(true);
    expect(policy.isAllowed("ftp://chat.local:8080", "chat.local:8080")).toBe(false);
    expect(policy.isAllowed("http://chat.local:8081", "chat.local:8080")).toBe(false);
  });

  it('refuses an opaque Origin ("null", sent by sandboxed frames and file: pages) and a request without Host', () => {
    expect(policy.isAllowed("null", "chat.local:8080")).toBe(false);
    expect(policy.isAllowed("http://chat.local:8080", undefined)).toBe(false);
    expect(policy.admits(request({ origin: "null", cookie: "parley_session=x" }), "parley_session")).toBe(
      false,
    );
    expect(policy.admits(request({ origin: FOREIGN }), "parley_session")).toBe(false);
  });

  it("judges a request without Origin by its Referer only when it carries the session cookie", () => {
    const admits = (headers: Record<string, string>) => policy.admits(request(headers), "parley_session");
    expect(admits({ host: "chat.local" })).toBe(true);
    expect(admits({ host: "chat.local", cookie: "theme=dark" })).toBe(true);
    expect(admits({ host: "chat.local", cookie: "theme=dark; parley_session=x" })).toBe(false);
    expect(admits({ host: "chat.local", cookie: "parley_session=x", referer: `${FOREIGN}/` })).toBe(false);
    expect(admits({ host: "chat.local", cookie: "parley_session=x", referer: "http://chat.local/r" })).toBe(
      true,
    );
    expect(admits({ host: "chat.local", cookie: "parley_session=x", referer: `${ALLOWED}/r` })).toBe(true);
    expect(
      admits({ host: "chat.local", cookie: "parley_session=x", referer: "https://parley.example/" }),
    ).toBe(true);
  });
});
