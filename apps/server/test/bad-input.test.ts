import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
let token: string;
let email: string;
beforeAll(async () => {
  t = await startTestServer();
  email = uniqueEmail();
  token =
    (await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Owner" })).token ??
    "";
});
afterAll(() => t.close());

interface Reply {
  status: number;
  body: { error?: { json?: { message: string; data: { code: string } }; message?: string } } | unknown[];
}

async function call(path: string, rawBody: string, method = "POST"): Promise<Reply> {
  const response = await fetch(`${t.url}/trpc/${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: method === "POST" ? rawBody : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

async function tableCounts() {
  const db = t.server.deps.db;
  const [users] = await db.select({ n: count() }).from(schema.users);
  const [sessions] = await db.select({ n: count() }).from(schema.sessions);
  const [outbox] = await db.select({ n: count() }).from(schema.emailOutbox);
  const [resets] = await db.select({ n: count() }).from(schema.passwordResetTokens);
  return { users: users?.n, sessions: sessions?.n, outbox: outbox?.n, resets: resets?.n };
}

const MEGABYTE_STRING = "a".repeat(1_000_000);
const DEEP = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;

/** Every auth procedure taking input, with a well-formed input to mutate. */
const procedures: Record<string, Record<string, unknown>> = {
  "auth.register": { email: "new@example.com", password: GOOD_PASSWORD, displayName: "New" },
  "auth.login": { email: "someone@example.com", password: GOOD_PASSWORD },
  "auth.verifyEmail": { token: "abc" },
  "auth.requestPasswordReset": { email: "someone@example.com" },
  "auth.resetPassword": { token: "abc", password: GOOD_PASSWORD },
  "auth.changePassword": { currentPassword: GOOD_PASSWORD, newPassword: "another good passphrase" },
  "auth.sessions.revoke": { sessionId: "0".repeat(32) },
};

function badInputs(good: Record<string, unknown>): [string, string][] {
  const fields = Object.keys(good);
  const cases: [string, string][] = [
    ["no input", JSON.stringify({})],
    ["null input", JSON.stringify({ json: null })],
    ["an array", JSON.stringify({ json: [good] })],
    ["missing fields", JSON.stringify({ json: {} })],
  ];
  for (const field of fields) {
    const swap = (value: unknown) => JSON.stringify({ json: { ...good, [field]: value } });
    cases.push([`${field} as a number`, swap(42)]);
    cases.push([`${field} as an object`, swap({ $gt: "" })]);
    cases.push([`${field} as 1 MB`, swap(MEGABYTE_STRING)]);
    cases.push([`${field} with a NUL byte`, swap(`x\u0000${String(good[field])}`)]);
    cases.push([
      `${field} nested 50,000 deep`,
      `{"json":{${fields.map((f) => `"${f}":${f === field ? DEEP : JSON.stringify(good[f])}`).join(",")}}}`,
    ]);
  }
  return cases;
}

describe("bad input to every auth procedure", () => {
  for (const [path, good] of Object.entries(procedures)) {
    it(`${path} answers every malformed input with 400 and a message, changing nothing`, async () => {
      const before = await tableCounts();
      for (const [name, body] of badInputs(good)) {
        const reply = await call(path, body);
        const error = (reply.body as { error?: { json?: { message: string; data: { code: string } } } }).error
          ?.json;
        expect(reply.status, `${path}: ${name}`).toBe(400);
        expect(error?.data.code, `${path}: ${name}`).toMatch(/^(BAD_REQUEST|PARSE_ERROR)$/);
        expect(error?.message.length, `${path}: ${name}`).toBeGreaterThan(0);
        expect(error?.message, `${path}: ${name}`).not.toMatch(/at .*\.ts|SELECT|INSERT|stack/i);
      }
      expect(await tableCounts()).toEqual(before);
      expect(await t.client(token).auth.me.query()).toMatchObject({ email });
    });
  }

  it("procedures without input ignore a hostile one without failing", async () => {
    for (const path of ["auth.me", "auth.sessions.list"]) {
      const reply = await call(
        `${path}?input=${encodeURIComponent(`{"json":${DEEP.slice(0, 2000)}${DEEP.slice(-2000)}}`)}`,
        "",
        "GET",
      );
      expect(reply.status, path).toBeLessThan(500);
    }
  });

  it("a body that is not JSON is a 400 PARSE_ERROR", async () => {
    const reply = await call("auth.login", "{not json");
    expect(reply.status).toBe(400);
  });

  it("a body over the 1 MiB limit is refused with 413", async () => {
    const before = await tableCounts();
    const body = JSON.stringify({ json: { email: "a@example.com", password: "b".repeat(2_000_000) } });
    const reply = await call("auth.login", body);
    expect(reply.status).toBe(413);
    expect(await tableCounts()).toEqual(before);
  });

  it("a 1,000-call batch is refused with 400 and runs none of the calls", async () => {
    const before = await tableCounts();
    // logout would end the caller's session: the unchanged session count proves none ran.
    const paths = Array.from({ length: 1000 }, () => "auth.logout").join(",");
    const inputs = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [i, { json: null }]));
    const reply = await call(`${paths}?batch=1`, JSON.stringify(inputs));
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body)).toContain("Batch call exceeds maximum size");
    expect(await tableCounts()).toEqual(before);
    expect(await t.client(token).auth.me.query()).toMatchObject({ email });
  });

  it("a batch whose URL exceeds Node's header limit is refused with 431 before it runs", async () => {
    const before = await tableCounts();
    const paths = Array.from({ length: 1000 }, () => "auth.requestPasswordReset").join(",");
    const inputs = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [i, { json: { email } }]));
    const reply = await call(`${paths}?batch=1`, JSON.stringify(inputs));
    expect(reply.status).toBe(431);
    expect(await tableCounts()).toEqual(before);
  });

  it("a batch within the limit runs", async () => {
    const paths = Array.from({ length: 10 }, () => "auth.me").join(",");
    const reply = await call(`${paths}?batch=1&input=${encodeURIComponent("{}")}`, "", "GET");
    expect(reply.status).toBe(200);
    expect(reply.body).toHaveLength(10);
  });
});
