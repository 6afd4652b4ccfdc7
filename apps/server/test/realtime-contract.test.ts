import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { type ApiDeps, type AppRouter, appRouter, createWsContextFactory } from "@parley/api";
import { createSessionSockets } from "@parley/core";
import { type Account, must, roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { within } from "@parley/testing/condition-waiter";
import { createTRPCClient, createWSClient, type TRPCClient, TRPCClientError, wsLink } from "@trpc/client";
import { applyWSSHandler } from "@trpc/server/adapters/ws";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// The contract of the push path (src/realtime): tRPC's stock client (createWSClient + wsLink,
// Node's `ws` as its WebSocket) drives chat.events against it and, in the same scenario, against
// tRPC's own adapter (applyWSSHandler on the same services and database, where chat.events is
// iterated like any subscription). What wsLink surfaces to the subscriber and the frames it
// receives must be the same; a tRPC release whose protocol moves away from what the push path
// writes fails here, not in production.

type Data = Parameters<WebSocket["send"]>[0];
type SendOptions = { mask?: boolean; binary?: boolean; compress?: boolean; fin?: boolean };
type SendCallback = (err?: Error) => void;
type WebSocketConstructor = NonNullable<Parameters<typeof createWSClient>[0]["WebSocket"]>;

interface ServerFrame {
  id?: number | string | null;
  method?: string;
  result?: { type: string; id?: string; data?: unknown };
  error?: { json: { message: string; code: number; data: Record<string, unknown> } };
}

/** A wsLink client whose sockets record every frame they send and receive. */
function linkClient(url: string, token?: string) {
  const received: { socket: number; frame: ServerFrame }[] = [];
  const sent: { socket: number; message: unknown }[] = [];
  const waiters = new Set<() => void>();
  let sockets = 0;
  class RecordingWebSocket extends WebSocket {
    readonly index = sockets++;
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      this.on("message", (data) => {
        for (const frame of [JSON.parse(String(data))].flat() as ServerFrame[]) {
          received.push({ socket: this.index, frame });
        }
        for (const wake of [...waiters]) wake();
      });
    }
    override send(data: Data, cb?: SendCallback): void;
    override send(data: Data, options: SendOptions, cb?: SendCallback): void;
    override send(data: Data, optionsOrCb?: SendOptions | SendCallback, cb?: SendCallback): void {
      sent.push({ socket: this.index, message: JSON.parse(String(data)) });
      if (typeof optionsOrCb === "function") super.send(data, optionsOrCb);
      else super.send(data, optionsOrCb ?? {}, cb);
    }
  }
  const wsClient = createWSClient({
    url,
    WebSocket: RecordingWebSocket as unknown as WebSocketConstructor,
    connectionParams: token ? { token } : undefined,
    retryDelayMs: () => 20,
  });
  const api: TRPCClient<AppRouter> = createTRPCClient<AppRouter>({
    links: [wsLink<AppRouter>({ client: wsClient, transformer: superjson })],
  });
  return {
    api,
    received,
    sent,
    /** The frames for request `id`, in order, made comparable across servers (see `comparable`). */
    framesOf: (id: number | string) =>
      received.filter((r) => r.frame.id === id).map((r) => comparable(r.frame)),
    /** Resolves once a received frame matches. */
    frame(match: (received: { socket: number; frame: ServerFrame }) => boolean): Promise<ServerFrame> {
      return new Promise((resolve) => {
        const check = () => {
          const found = received.find(match);
          if (!found) return;
          waiters.delete(check);
          resolve(found.frame);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => wsClient.close(),
  };
}
type LinkClient = ReturnType<typeof linkClient>;

/** The request id is the connection's own (a random id in every error): the one field that differs. */
function comparable(frame: ServerFrame): ServerFrame {
  if (!frame.error) return frame;
  const { data } = frame.error.json;
  return {
    ...frame,
    error: { json: { ...frame.error.json, data: { ...data, requestId: typeof data.requestId } } },
  };
}

type Surfaced =
  | { kind: "started" }
  | { kind: "data"; id: string; data: unknown }
  | { kind: "error"; code: unknown; message: string; data: unknown }
  | { kind: "stopped" }
  | { kind: "complete" };

/** chat.events through wsLink, noting what the subscriber is told, in order. */
function observe(client: LinkClient, input: { roomId: string; lastEventId?: string }) {
  const surfaced: Surfaced[] = [];
  const waiters = new Set<() => void>();
  const note = (event: Surfaced) => {
    surfaced.push(event);
    for (const wake of [...waiters]) wake();
  };
  const subscription = client.api.chat.events.subscribe(input, {
    onStarted: () => note({ kind: "started" }),
    onData: ({ id, data }) => note({ kind: "data", id, data }),
    onError: (error) => {
      const data = error instanceof TRPCClientError ? (error.data as Record<string, unknown>) : {};
      note({
        kind: "error",
        code: data.code,
        message: error.message,
        data: { ...data, requestId: typeof data.requestId },
      });
    },
    onStopped: () => note({ kind: "stopped" }),
    onComplete: () => note({ kind: "complete" }),
  });
  return {
    surfaced,
    unsubscribe: () => subscription.unsubscribe(),
    /** Resolves once the subscriber has been told `count` things matching `match`. */
    until(match: (event: Surfaced) => boolean, count = 1): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (surfaced.filter(match).length < count) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    dataIds: () => surfaced.flatMap((event) => (event.kind === "data" ? [event.id] : [])),
  };
}

const isKind = (kind: Surfaced["kind"]) => (event: Surfaced) => event.kind === kind;

/** tRPC's own WebSocket adapter over the given services: the reference the push path must match. */
async function startStockServer(deps: ApiDeps, port = 0) {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const sockets = createSessionSockets(deps.bus, { maxPerUser: 100, db: deps.db });
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: createWsContextFactory(deps, sockets),
  });
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${bound}/trpc`,
    port: bound,
    /**
     * As a deploy would, in our server's order: stop listening, the reconnect notice, then the
     * sockets go. Listening on while they closed let wsLink's reconnect (20 ms after the notice)
     * in once wss.close() had taken ws's `upgrade` listener away: Node handed the upgrade to
     * `request`, which nothing here answers, and http.close() waited on it for minutes.
     */
    async close() {
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      handler.broadcastReconnectNotification();
      for (const ws of wss.clients) ws.close(1001, "Server shutting down");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      // A connection accepted just before http.close() whose upgrade came after ws let go.
      http.closeAllConnections();
      await stopped;
    },
  };
}
type StockServer = Awaited<ReturnType<typeof startStockServer>>;

/** Each step's bound: well inside the test's 60 s, so a hang names its step (see `within`). */
const STEP_MS = 15_000;

let t: TestServer;
let stock: StockServer;
const wsUrlOf = (server: TestServer) => `${server.url.replace(/^http/, "ws")}/trpc`;
beforeAll(async () => {
  t = await startTestServer();
  stock = await startStockServer(t.server.deps);
});
afterAll(async () => {
  await stock?.close();
  await t?.close();
});

/** The same account on both servers: one client on the push path, one on tRPC's adapter. */
function pair(account?: Account) {
  return {
    push: linkClient(wsUrlOf(t), account?.token),
    stock: linkClient(stock.url, account?.token),
    close() {
      this.push.close();
      this.stock.close();
    },
  };
}

/** A call on the same socket, answered after everything the server sent before it. */
async function barrier(client: LinkClient) {
  await client.api.auth.me.query();
}

describe("chat.events driven by tRPC's wsLink: the push path answers as tRPC's adapter does", () => {
  it("data: tracked events reach the subscriber with their ids, in the frames tRPC's adapter sends", async () => {
    const { owner, room } = await within(STEP_MS, "a room", roomWith(t, false));
    const clients = pair(owner);
    const push = observe(clients.push, { roomId: room.id });
    const reference = observe(clients.stock, { roomId: room.id });
    await within(STEP_MS, "push path: `started`", push.until(isKind("started")));
    await within(STEP_MS, "tRPC's adapter: `started`", reference.until(isKind("started")));
    const sent = [];
    for (const content of ["one", "two", "three"]) {
      sent.push(await within(STEP_MS, `sending "${content}"`, send(owner.api, room.id, content)));
    }
    await within(STEP_MS, "push path: 3 events", push.until(isKind("data"), 3));
    await within(STEP_MS, "tRPC's adapter: 3 events", reference.until(isKind("data"), 3));

    expect(push.dataIds()).toEqual(sent.map((message) => String(message.seq)));
    expect(push.surfaced[1]).toMatchObject({
      kind: "data",
      data: { type: "message.created", seq: sent[0]?.seq, message: { content: "one" } },
    });
    expect(push.surfaced).toEqual(reference.surfaced);
    // wsLink's first subscription has id 1 on both sockets.
    expect(clients.push.framesOf(1)).toEqual(clients.stock.framesOf(1));
    expect(clients.push.framesOf(1).map((frame) => frame.result?.type)).toEqual([
      "started",
      "data",
      "data",
      "data",
    ]);

    // Resuming after the first event (what wsLink does on a reconnect): the rest is replayed.
    const resumedPush = observe(clients.push, { roomId: room.id, lastEventId: String(sent[0]?.seq) });
    const resumedStock = observe(clients.stock, { roomId: room.id, lastEventId: String(sent[0]?.seq) });
    await within(STEP_MS, "push path: 2 events replayed", resumedPush.until(isKind("data"), 2));
    await within(STEP_MS, "tRPC's adapter: 2 events replayed", resumedStock.until(isKind("data"), 2));
    expect(resumedPush.dataIds()).toEqual(sent.slice(1).map((message) => String(message.seq)));
    expect(resumedPush.surfaced).toEqual(resumedStock.surfaced);
    expect(clients.push.framesOf(2)).toEqual(clients.stock.framesOf(2));
    clients.close();
  });

  it("error: bad input is BAD_REQUEST and a signed-out caller UNAUTHORIZED, with tRPC's adapter's frames", async () => {
    const { owner } = await roomWith(t, false);
    const clients = pair(owner);
    const push = observe(clients.push, { roomId: "not-a-room" });
    const reference = observe(clients.stock, { roomId: "not-a-room" });
    await Promise.all([push.until(isKind("error")), reference.until(isKind("error"))]);
    expect(push.surfaced).toEqual([
      expect.objectContaining({
        kind: "error",
        code: "BAD_REQUEST",
        data: expect.objectContaining({
          zodError: expect.objectContaining({ fieldErrors: { roomId: expect.any(Array) } }),
        }),
      }),
    ]);
    expect(push.surfaced).toEqual(reference.surfaced);
    expect(clients.push.framesOf(1)).toEqual(clients.stock.framesOf(1));
    clients.close();

    const { room } = await roomWith(t, false);
    const anonymous = pair();
    const anonymousPush = observe(anonymous.push, { roomId: room.id });
    const anonymousStock = observe(anonymous.stock, { roomId: room.id });
    await Promise.all([anonymousPush.until(isKind("error")), anonymousStock.until(isKind("error"))]);
    expect(anonymousPush.surfaced).toEqual([
      expect.objectContaining({ kind: "error", code: "UNAUTHORIZED" }),
    ]);
    expect(anonymousPush.surfaced).toEqual(anonymousStock.surfaced);
    expect(anonymous.push.framesOf(1)).toEqual(anonymous.stock.framesOf(1));
    anonymous.close();
  });

  it("error: a private room is NOT_FOUND with tRPC's adapter's error, but without its `started` first", async () => {
    const { room } = await roomWith(t, true);
    const outsider = await signUp(t, "Outsider");
    const clients = pair(outsider);
    const push = observe(clients.push, { roomId: room.id });
    const reference = observe(clients.stock, { roomId: room.id });
    await Promise.all([push.until(isKind("error")), reference.until(isKind("error"))]);
    await clients.stock.frame((r) => r.frame.id === 1 && r.frame.result?.type === "stopped");
    await barrier(clients.push);
    const notFound = expect.objectContaining({ kind: "error", code: "NOT_FOUND", message: "No such room" });
    expect(push.surfaced).toEqual([notFound]);
    // The one known difference. tRPC's adapter says `started` as soon as the procedure returns
    // its stream, before the stream's access check runs, then the error, then `stopped`; the push
    // path says `started` only once the check has passed. Both end the subscription with the
    // same error, and wsLink ignores the `stopped` of a request that already failed.
    expect(reference.surfaced).toEqual([{ kind: "started" }, notFound]);
    expect(push.surfaced[0]).toEqual(reference.surfaced[1]);
    const [pushError] = clients.push.framesOf(1);
    expect(clients.stock.framesOf(1)).toEqual([
      { id: 1, result: { type: "started" } },
      pushError,
      { id: 1, result: { type: "stopped" } },
    ]);
    clients.close();
  });

  it("stop: after unsubscribe the server answers `stopped` and sends that subscription nothing more", async () => {
    const { owner, room } = await roomWith(t, false);
    const clients = pair(owner);
    const push = observe(clients.push, { roomId: room.id });
    const reference = observe(clients.stock, { roomId: room.id });
    await Promise.all([push.until(isKind("started")), reference.until(isKind("started"))]);
    const first = await send(owner.api, room.id, "before the stop");
    await Promise.all([push.until(isKind("data")), reference.until(isKind("data"))]);

    push.unsubscribe();
    reference.unsubscribe();
    const stopped = (r: { frame: ServerFrame }) => r.frame.id === 1 && r.frame.result?.type === "stopped";
    await Promise.all([clients.push.frame(stopped), clients.stock.frame(stopped)]);
    expect(clients.push.sent).toContainEqual({ socket: 0, message: { id: 1, method: "subscription.stop" } });
    await send(owner.api, room.id, "after the stop");
    await Promise.all([barrier(clients.push), barrier(clients.stock)]);

    expect(push.dataIds()).toEqual([String(first.seq)]);
    expect(push.surfaced).toEqual(reference.surfaced);
    expect(clients.push.framesOf(1).map((frame) => frame.result?.type)).toEqual([
      "started",
      "data",
      "stopped",
    ]);
    expect(clients.push.framesOf(1)).toEqual(clients.stock.framesOf(1));
    clients.close();
  });

  it("batch: subscriptions and a query queued in one tick go out as one frame and each is answered", async () => {
    const { owner, room } = await roomWith(t, false);
    const other = await owner.api.chat.rooms.create.mutate({ name: "Other", isPrivate: false });
    const clients = pair(owner);
    const run = (client: LinkClient) => {
      const a = observe(client, { roomId: room.id });
      const b = observe(client, { roomId: other.id });
      const got = client.api.chat.rooms.get.query({ roomId: room.id });
      return { a, b, got };
    };
    const push = run(clients.push);
    const reference = run(clients.stock);
    await Promise.all([push.a.until(isKind("started")), push.b.until(isKind("started"))]);
    await Promise.all([reference.a.until(isKind("started")), reference.b.until(isKind("started"))]);
    expect((await push.got).id).toBe(room.id);
    expect(await push.got).toEqual(await reference.got);

    // connectionParams first, then the three calls in one array frame.
    const batches = clients.push.sent.filter((s) => Array.isArray(s.message));
    expect(batches).toHaveLength(1);
    expect((must(batches[0], "batch").message as { method: string }[]).map((m) => m.method)).toEqual([
      "subscription",
      "subscription",
      "query",
    ]);
    expect(clients.stock.sent).toEqual(clients.push.sent);

    const inRoom = await send(owner.api, room.id, "to the first");
    const inOther = await send(owner.api, other.id, "to the other");
    await Promise.all([push.a.until(isKind("data")), push.b.until(isKind("data"))]);
    await Promise.all([reference.a.until(isKind("data")), reference.b.until(isKind("data"))]);
    expect(push.a.dataIds()).toEqual([String(inRoom.seq)]);
    expect(push.b.dataIds()).toEqual([String(inOther.seq)]);
    expect([push.a.surfaced, push.b.surfaced]).toEqual([reference.a.surfaced, reference.b.surfaced]);
    for (const id of [1, 2, 3]) expect(clients.push.framesOf(id)).toEqual(clients.stock.framesOf(id));
    clients.close();
  });
});

describe("the reconnect notice: on a restart wsLink moves the subscription, resuming after the last event it saw", () => {
  /**
   * A WebSocket peer that, once the server starts closing it, says nothing for `holdMs` and then
   * drops the connection, as a client on a loaded machine does: the server's close waits on it
   * while wsLink's reconnect (20 ms after the notice) is already knocking. The CI run that hung
   * (load 16 on 2 cores) had such a window by chance; this holds it open on every run.
   */
  async function slowPeer(port: number, holdMs: number) {
    const socket = connect(port, "127.0.0.1");
    socket.write(
      [
        "GET /trpc HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "",
        "",
      ].join("\r\n"),
    );
    const [handshake] = (await once(socket, "data")) as [Buffer];
    expect(String(handshake)).toMatch(/^HTTP\/1\.1 101 /);
    // The next bytes are the reconnect notice and the close frame.
    socket.once("data", () => setTimeout(() => socket.destroy(), holdMs));
    return { gone: once(socket, "close") };
  }

  /** One server's restart as wsLink lives it; the same steps on the push path and on tRPC's adapter. */
  async function restartScenario(server: {
    name: string;
    url: string;
    port: number;
    account: Account;
    roomId: string;
    restart(): Promise<void>;
    /** Sends through the server that runs after the restart. */
    sendAfter(content: string): Promise<{ seq: number }>;
  }) {
    const step = <T>(label: string, promise: Promise<T>) =>
      within(STEP_MS, `${server.name}: ${label}`, promise);
    const client = linkClient(server.url, server.account.token);
    const subscription = observe(client, { roomId: server.roomId });
    await step("the subscription's `started`", subscription.until(isKind("started")));
    const before = await step(
      "sending before the restart",
      send(server.account.api, server.roomId, "before the restart"),
    );
    await step("the event sent before the restart", subscription.until(isKind("data")));
    const peer = await step("the slow peer's handshake", slowPeer(server.port, 300));
    await server.restart();
    await step("the slow peer's end", peer.gone);
    const after = await step("sending after the restart", server.sendAfter("after the restart"));
    await step(
      "the event sent after the restart, on the new socket",
      subscription.until((event) => event.kind === "data" && event.id === String(after.seq)),
    );
    await step("the barrier call on the new socket", barrier(client));
    // wsLink re-sends the subscription on the new socket (under a new id when the old socket was lost).
    const resubscribed = client.sent
      .filter((s) => s.socket > 0)
      .flatMap(
        (s) => [s.message].flat() as { id: number; method?: string; params?: { lastEventId?: string } }[],
      )
      .find((message) => message.method === "subscription");
    const outcome = {
      notice: client.received.some(
        (r) => r.socket === 0 && r.frame.id === null && r.frame.method === "reconnect",
      ),
      resumedFrom: resubscribed?.params?.lastEventId,
      startedOnNewSocket: client.received.some(
        (r) => r.socket > 0 && r.frame.id === resubscribed?.id && r.frame.result?.type === "started",
      ),
      dataIds: subscription.dataIds(),
      errors: subscription.surfaced.filter(isKind("error")),
    };
    client.close();
    return { outcome, expected: { before: String(before.seq), after: String(after.seq) } };
  }

  it("on the push path as on tRPC's adapter: each event once, none lost", async () => {
    // The push path: a whole server stops (notice, then 1001) and another starts on its port.
    const first = await startTestServer();
    let second: TestServer | null = null;
    // In a hook, not a `finally`: a close stuck with the step that failed would turn its
    // "stuck at" into a bare timeout.
    onTestFinished(() =>
      within(
        STEP_MS,
        "closing the push path's servers",
        (async () => {
          await (second as TestServer | null)?.close();
          await first.close();
        })(),
      ),
    );
    const { owner, room } = await roomWith(first, false);
    const pushRun = await restartScenario({
      name: "push path",
      url: wsUrlOf(first),
      port: first.server.port,
      account: owner,
      roomId: room.id,
      async restart() {
        await within(STEP_MS, "push path: closing the server", first.server.close());
        second = await within(
          STEP_MS,
          "push path: starting a server on the same port",
          startTestServer({ port: first.server.port, databaseUrl: first.databaseUrl }),
        );
      },
      sendAfter: (content) => send(must(second).client(owner.token), room.id, content),
    });

    // tRPC's adapter, restarted the same way on the same services.
    const stockOwner = await roomWith(t, false);
    const stockRun = await restartScenario({
      name: "tRPC's adapter",
      url: stock.url,
      port: stock.port,
      account: stockOwner.owner,
      roomId: stockOwner.room.id,
      async restart() {
        await within(STEP_MS, "tRPC's adapter: closing the server", stock.close());
        stock = await within(
          STEP_MS,
          "tRPC's adapter: starting a server on the same port",
          startStockServer(t.server.deps, stock.port),
        );
      },
      sendAfter: (content) => send(stockOwner.owner.api, stockOwner.room.id, content),
    });

    for (const run of [pushRun, stockRun]) {
      expect(run.outcome).toEqual({
        notice: true,
        resumedFrom: run.expected.before,
        startedOnNewSocket: true,
        dataIds: [run.expected.before, run.expected.after],
        errors: [],
      });
    }
  });
});
