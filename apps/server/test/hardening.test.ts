import { connect } from "node:net";
import { Writable } from "node:stream";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { createFixtureRouter } from "@parley/testing/fixture-router";
import { openRawSocket, parseServerMessage } from "@parley/testing/raw-socket";
import { eq, sql } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
/** Every line the server logs, at every level. */
const logged: string[] = [];
beforeAll(async () => {
  t = await startTestServer({
    logger: pino(
      { level: "trace" },
      new Writable({
        write(chunk, _encoding, done) {
          logged.push(String(chunk));
          done();
        },
      }),
    ),
    router: createFixtureRouter().router,
    limits: { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, concurrentHashes: 1, queuedHashes: 2 },
  });
});
afterAll(() => t.close());

async function post(path: string, json: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${t.url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ json }),
  });
  return { status: response.status, text: await response.text() };
}

describe("hardening", () => {
  it("logs a failing request without its headers: no session token or cookie reaches the log", async () => {
    const token = "t0ken-that-must-not-be-logged";
    const response = await fetch(`${t.url}/trpc/fixture.explode`, {
      headers: { authorization: `Bearer ${token}`, cookie: `parley_session=${token}` },
    });
    expect(response.status).toBe(500);
    const lines = logged.filter((line) => line.includes("fixture.explode"));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes('"level":50'))).toBe(true);
    expect(logged.filter((line) => line.includes(token))).toEqual([]);
  });

  it("cuts off a client that sends its headers too slowly (slowloris)", async () => {
    const socket = connect(Number(new URL(t.url).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    const startedAt = Date.now();
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    let reply = "";
    socket.on("data", (chunk) => {
      reply += chunk.toString();
    });
    await new Promise((resolve) => socket.once("close", resolve));
    // headersTimeout is 1 s here and checked every second: far from Node's 60 s + 30 s.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it("refuses a session past its absolute lifetime even though it was used recently", async () => {
    const { token } = await t.client().auth.register.mutate({
      email: uniqueEmail(),
      password: GOOD_PASSWORD,
      displayName: "Old",
    });
    expect(await t.client(token).auth.me.query()).not.toBeNull();
    await t.server.deps.db
      .update(schema.sessions)
      .set({ createdAt: sql`now() - interval '31 days'` })
      .where(eq(schema.sessions.id, token ?? ""));
    expect(await t.client(token).auth.me.query()).toBeNull();
    const rows = await t.server.deps.db
      .select()
      .from(schema.sessions)
      .where(eq(schema.sessions.id, token ?? ""));
    expect(rows).toHaveLength(0);
  });

  it("refuses a login burst beyond the hashing queue with 429, never a 500", async () => {
    const email = uniqueEmail();
    await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Burst" });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () => post("auth.login", { email, password: "wrong password, try again" })),
    );
    const byStatus = new Map<number, string[]>();
    for (const { status, text } of statuses) byStatus.set(status, [...(byStatus.get(status) ?? []), text]);
    expect([...byStatus.keys()].sort()).toEqual([401, 429]);
    expect(byStatus.get(429)?.[0]).toContain("TOO_MANY_REQUESTS");
  });

  it("spends an argon2 verify on unknown emails too, so timing does not reveal accounts", async () => {
    const email = uniqueEmail();
    await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Timing" });
    const time = async (loginEmail: string) => {
      const started = performance.now();
      const { status } = await post("auth.login", {
        email: loginEmail,
        password: "wrong password, try again",
      });
      expect(status).toBe(401);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Interleaved, so machine noise falls on both alike; compared as a ratio of medians.
    for (let i = 0; i < 9; i++) {
      known.push(await time(email));
      unknown.push(await time(uniqueEmail()));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it("hides an unexpected error's internals: no SQL, no stack, just the request id", async () => {
    const response = await fetch(`${t.url}/trpc/fixture.explode`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/SELECT|secret|stack|\.ts:/);
    const body = JSON.parse(text) as { error: { json: { message: string; data: { requestId: string } } } };
    expect(body.error.json.message).toBe("Internal server error");
    expect(body.error.json.data.requestId).toBe(response.headers.get("x-request-id"));
  });

  it("carries no stack in client errors either", async () => {
    const { text } = await post("auth.login", { email: "bad" });
    expect(text).not.toContain("stack");
  });
});

describe("graceful shutdown", () => {
  it("tells WebSocket clients to reconnect, closes them, and stops listening", async () => {
    const server = await startTestServer();
    const socket = await openRawSocket(server.url);
    const messages: unknown[] = [];
    socket.socket.on("message", (data) => messages.push(...(parseServerMessage(data) ?? [])));
    await server.close();
    expect(await socket.closed).toBe(1001);
    expect(messages).toContainEqual({ id: null, method: "reconnect" });
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
