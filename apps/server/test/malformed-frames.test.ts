import { schema } from "@parley/db";
import { roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { openRawSocket, type RawSocket, type TrpcWsMessage } from "@parley/testing/raw-socket";
import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** A frame whose strings are spelled with JSON escapes: the same message, other bytes. */
function escaped(frame: unknown): string {
  return JSON.stringify(frame)
    .replace('"chat.events"', '"chat\\u002eevents"')
    .replace('"subscription.stop"', '"subscription\\u002estop"');
}

const idIs = (id: number) => (message: TrpcWsMessage) => message.id === id;
const typeIs = (id: number, type: string) => (message: TrpcWsMessage) =>
  message.id === id && message.result?.type === type;

/** A call answered after everything the server sent before it: a barrier without a sleep. */
async function barrier(socket: RawSocket) {
  await socket.call("query", "auth.me");
}

describe("the push path dispatches on the parsed message, not its bytes", () => {
  it('a JSON-escaped "chat\\u002eevents" on a private room gets NOT_FOUND and never `started`', async () => {
    const { room } = await roomWith(t, true, "Secret");
    const outsider = await signUp(t, "Outsider");
    const socket = await openRawSocket(t.url, { token: outsider.token });
    const frame = {
      id: 1,
      method: "subscription",
      params: { path: "chat.events", input: { json: { roomId: room.id } } },
    };
    socket.sendRaw(escaped(frame));

    const answer = await socket.next(idIs(1));
    expect(answer.error?.data?.code).toBe("NOT_FOUND");
    await barrier(socket);
    expect(socket.received.filter(idIs(1))).toEqual([answer]);
    socket.close();
  });

  it("an escaped path in a batch, beside another call, is served by the push path; an escaped stop ends it", async () => {
    const { owner, room } = await roomWith(t, false, "Open");
    const socket = await openRawSocket(t.url, { token: owner.token });
    const frames = [
      {
        id: 2,
        method: "subscription",
        params: { path: "chat.events", input: { json: { roomId: room.id } } },
      },
      { id: 3, method: "query", params: { path: "auth.me", input: { json: null } } },
    ];
    socket.sendRaw(escaped(frames));
    await socket.next(typeIs(2, "started"));
    expect((await socket.next(idIs(3))).result?.type).toBe("data");
    const first = await send(owner.api, room.id, "one");
    const data = await socket.next(typeIs(2, "data"));
    expect(data.result).toMatchObject({ id: String(first.seq) });

    socket.sendRaw(escaped({ id: 2, method: "subscription.stop" }));
    await socket.next(typeIs(2, "stopped"));
    await send(owner.api, room.id, "two");
    await barrier(socket);
    expect(socket.received.filter(typeIs(2, "data"))).toHaveLength(1);
    socket.close();
  });
});

const deepArray = (depth: number) => `${"[".repeat(depth)}"x"${"]".repeat(depth)}`;

/** Bodies whose input cannot be decoded at all: each must get our message, never the parser's. */
const undecodableBodies: Record<string, string> = {
  "deeply nested superjson meta": `{"json":{"name":"a","isPrivate":false},"meta":{"values":${deepArray(3000)}}}`,
  "a superjson meta naming an unknown custom transformation": JSON.stringify({
    json: { name: "a", isPrivate: false },
    meta: { values: { name: ["custom", "nope"] } },
  }),
  "a superjson meta path through __proto__": JSON.stringify({
    json: { name: "a", isPrivate: false },
    meta: { values: { "__proto__.x": ["Date"] } },
  }),
  "a null body": "null",
  "a body that is not JSON": "{not json",
};

async function roomCount() {
  const [row] = await t.server.deps.db.select({ n: count() }).from(schema.rooms);
  return row?.n;
}

describe("undecodable input gets a message of ours", () => {
  it("over HTTP: BAD_REQUEST (or PARSE_ERROR) saying `Malformed input`, and nothing changes", async () => {
    const { token } = await signUp(t, "Caller");
    const before = await roomCount();
    for (const [name, body] of Object.entries(undecodableBodies)) {
      const response = await fetch(`${t.url}/trpc/chat.rooms.create`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
      });
      const reply = (await response.json()) as {
        error?: { json?: { message: string; data: { code: string } } };
      };
      expect(response.status, name).toBe(400);
      expect(["BAD_REQUEST", "PARSE_ERROR"], name).toContain(reply.error?.json?.data.code);
      expect(reply.error?.json?.message, name).toBe("Malformed input");
    }
    expect(await roomCount()).toBe(before);
  });

  it("a cyclic superjson meta is refused as bad input on both transports, with zod's message, changing nothing", async () => {
    const { token } = await signUp(t, "Caller");
    // referentialEqualities makes `name` contain itself once decoded.
    const cyclic = {
      json: { name: { self: null }, isPrivate: false },
      meta: { referentialEqualities: { name: ["name.self"] } },
    };
    const before = await roomCount();
    const response = await fetch(`${t.url}/trpc/chat.rooms.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(cyclic),
    });
    const reply = (await response.json()) as {
      error?: { json?: { message: string; data: { code: string } } };
    };
    expect(reply.error?.json?.data.code).toBe("BAD_REQUEST");
    expect(reply.error?.json?.message).toMatch(/^name: Invalid input/);

    const socket = await openRawSocket(t.url, { token });
    socket.sendRaw(
      JSON.stringify({ id: 7, method: "mutation", params: { path: "chat.rooms.create", input: cyclic } }),
    );
    const answer = await socket.next(idIs(7));
    expect(answer.error?.data?.code).toBe("BAD_REQUEST");
    expect(answer.error?.message).toMatch(/^name: Invalid input/);
    expect(await roomCount()).toBe(before);
    socket.close();
  });

  it("over HTTP, input of the wrong type still gets zod's field messages", async () => {
    const { token } = await signUp(t, "Caller");
    const response = await fetch(`${t.url}/trpc/chat.rooms.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ json: { name: 5, isPrivate: "no" } }),
    });
    const reply = (await response.json()) as {
      error?: { json?: { message: string; data: { code: string } } };
    };
    expect(reply.error?.json?.data.code).toBe("BAD_REQUEST");
    expect(reply.error?.json?.message).toMatch(/^name: .*; isPrivate: /);
  });

  it("over the WebSocket: PARSE_ERROR saying `Malformed input` for every undecodable frame, and the socket serves on", async () => {
    const { token } = await signUp(t, "Caller");
    const socket = await openRawSocket(t.url, { token });
    const create = (input: unknown) => ({
      id: 1,
      method: "mutation",
      params: { path: "chat.rooms.create", input },
    });
    const frames: Record<string, string> = {
      "a call without input": JSON.stringify({
        id: 1,
        method: "mutation",
        params: { path: "chat.rooms.create" },
      }),
      "a subscription without input": JSON.stringify({
        id: 1,
        method: "subscription",
        params: { path: "chat.events" },
      }),
      "a null input": JSON.stringify(create(null)),
      "deeply nested superjson meta": `{"id":1,"method":"mutation","params":{"path":"chat.rooms.create","input":{"json":{},"meta":{"values":${deepArray(3000)}}}}}`,
      "an unknown custom transformation": JSON.stringify(
        create({ json: { name: "a" }, meta: { values: { name: ["custom", "x"] } } }),
      ),
      "a numeric path": JSON.stringify({
        id: 1,
        method: "mutation",
        params: { path: 5, input: { json: {} } },
      }),
      "no params": JSON.stringify({ id: 1, method: "mutation" }),
      "a number": "42",
      "not JSON": "{not json",
    };
    const before = await roomCount();
    for (const [name, frame] of Object.entries(frames)) {
      const seen = socket.received.length;
      socket.sendRaw(frame);
      const answer = await socket.next((m) => socket.received.indexOf(m) >= seen && m.error !== undefined);
      expect(answer.error?.data?.code, name).toBe("PARSE_ERROR");
      expect(answer.error?.message, name).toBe("Malformed input");
    }
    expect((await socket.call("query", "auth.me")).result?.type).toBe("data");
    expect(await roomCount()).toBe(before);
    socket.close();
  });
});
