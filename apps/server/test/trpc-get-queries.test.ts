import { randomUUID } from "node:crypto";
import { send, signUp } from "@parley/testing/chat-fixtures";
import { INFO, recordingLogger } from "@parley/testing/log-recorder";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// A GET query, alone or as a batch of one (as @parley/client sends it), is answered by
// apps/server/src/trpc-get-queries.ts, not tRPC's fetch adapter. A GET carrying
// `content-type: application/json` still goes to tRPC's adapter (its JSON handler reads the same
// `input`), so each request below is answered by both and compared.

const log = recordingLogger("debug");
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ logger: log.logger });
});
afterAll(() => t.close());

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | null>;
  chunked: boolean;
}

async function get(path: string, query: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${t.url}/trpc/${path}${query}`, { headers });
  const body = await response.text();
  const pick = ["content-type", "vary", "retry-after", "set-cookie", "allow"];
  return {
    status: response.status,
    // Each request has its own id; everything else must match.
    body: body.replace(/"requestId":"[^"]*"/g, '"requestId":"…"'),
    headers: Object.fromEntries(pick.map((name) => [name, response.headers.get(name)])),
    chunked: response.headers.get("transfer-encoding") === "chunked",
  };
}

/** The same request answered by the fast path and by tRPC's adapter, alone and as a batch of one. */
async function bothWays(path: string, input: unknown, headers: Record<string, string> = {}) {
  const encoded = (value: unknown) => `input=${encodeURIComponent(JSON.stringify(value))}`;
  const alone = input === undefined ? "" : `?${encoded({ json: input })}`;
  const inBatch = input === undefined ? "?batch=1" : `?batch=1&${encoded({ 0: { json: input } })}`;
  const answers = [];
  for (const query of [alone, inBatch]) {
    const fast = await get(path, query, headers);
    const stock = await get(path, query, { ...headers, "content-type": "application/json" });
    answers.push({ fast, stock });
  }
  return answers;
}

describe("GET queries, alone or as a batch of one", () => {
  it("answer byte for byte as tRPC's adapter: data, NOT_FOUND, bad input, signed out, no input, blank cookie", async () => {
    const owner = await signUp(t, "Owner");
    const outsider = await signUp(t, "Outsider");
    const secret = await owner.api.chat.rooms.create.mutate({ name: "Secret", isPrivate: true });
    for (let i = 0; i < 5; i++) await send(owner.api, secret.id, `hidden ${i} "é" \\ 😀`);
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    const cases = (
      await Promise.all([
        bothWays("chat.messages.list", { roomId: secret.id, limit: 3 }, bearer(owner.token)),
        bothWays("chat.messages.list", { roomId: secret.id }, bearer(outsider.token)),
        bothWays("chat.messages.list", { roomId: randomUUID() }, bearer(outsider.token)),
        bothWays("chat.messages.list", { roomId: secret.id, limit: 1000 }, bearer(owner.token)),
        bothWays("chat.messages.list", { roomId: "not a uuid" }, bearer(owner.token)),
        bothWays("chat.messages.list", { roomId: secret.id }),
        bothWays("chat.messages.list", { roomId: secret.id }, bearer("no-such-session")),
        bothWays("auth.me", undefined, bearer(owner.token)),
        bothWays("auth.me", null, { cookie: "parley_session=no-such-session" }),
      ])
    ).flat();
    const statuses = cases.map((c) => c.fast.status);
    expect(statuses).toEqual(
      [200, 404, 404, 400, 400, 401, 401, 200, 200].flatMap((status) => [status, status]),
    );
    for (const { fast, stock } of cases) {
      expect(fast.status).toBe(stock.status);
      expect(fast.headers).toEqual(stock.headers);
      expect(fast.body).toBe(stock.body);
      // Proof that each path answered: tRPC's adapter streams its body in chunks.
      expect(fast.chunked).toBe(false);
      expect(stock.chunked).toBe(true);
    }
    expect(JSON.parse(cases[0]?.fast.body ?? "").result.data.json.items).toHaveLength(3);
    expect(JSON.parse(cases[1]?.fast.body ?? "")[0].result.data.json.items).toHaveLength(3);
    expect(cases[16]?.fast.headers["set-cookie"]).toContain("parley_session=;");
  });

  it("answers undecodable input as tRPC's adapter does", async () => {
    const owner = await signUp(t, "Owner");
    const headers = { authorization: `Bearer ${owner.token}` };
    const undecodable = [
      "?input=%7Bnot%20json",
      "?input=%7B%22json%22%3A1%2C%22meta%22%3A5%7D",
      "?batch=1&input=%7Bnot%20json",
      "?batch=1&input=%5B1%5D",
      "?batch=1&input=%7B%220%22%3A%7B%22json%22%3A1%2C%22meta%22%3A5%7D%7D",
    ];
    for (const query of undecodable) {
      const fast = await get("chat.messages.list", query, headers);
      const stock = await get("chat.messages.list", query, {
        ...headers,
        "content-type": "application/json",
      });
      expect(fast.status).toBe(400);
      expect(fast).toEqual({ ...stock, chunked: false });
    }
  });

  it("leaves batches, other parameters and other methods to tRPC's adapter", async () => {
    const owner = await signUp(t, "Owner");
    const headers = { authorization: `Bearer ${owner.token}` };
    const input = encodeURIComponent(JSON.stringify({ 0: { json: null }, 1: { json: null } }));
    const batch = await get("auth.me,auth.me", `?batch=1&input=${input}`, headers);
    expect(batch.status).toBe(200);
    expect(batch.chunked).toBe(true);
    const mutation = await get("chat.messages.send", "", headers);
    expect(mutation.status).toBe(405);
    expect(mutation.headers.allow).toBe("POST");
  });

  it("writes one request line naming the procedure, the user and the failed call's code", async () => {
    const owner = await signUp(t, "Owner");
    const requestId = `req-${randomUUID()}`;
    const query = `?input=${encodeURIComponent(JSON.stringify({ json: { roomId: randomUUID() } }))}`;
    const answer = await get("chat.messages.list", query, {
      authorization: `Bearer ${owner.token}`,
      "x-request-id": requestId,
    });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body.replace('"…"', `"${requestId}"`)).error.json.data.requestId).toBe(
      requestId,
    );
    const line = await log.next((l) => l.requestId === requestId && l.msg === "request");
    expect(line).toMatchObject({
      level: INFO,
      path: "/trpc/chat.messages.list",
      procedures: ["chat.messages.list"],
      status: 404,
      userId: owner.user.id,
      codes: ["NOT_FOUND"],
    });
    expect(log.lines.filter((l) => l.requestId === requestId && l.level >= INFO)).toHaveLength(1);
  });
});
