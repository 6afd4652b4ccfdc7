import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codeOf, roomWith, send } from "@parley/testing/chat-fixtures";
import { openRawSocket } from "@parley/testing/raw-socket";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLoopback } from "../src/metrics.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const TOKEN = "metrics-token-for-the-tests-0123456789";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and blank lines left out). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (label[1] !== undefined && label[2] !== undefined) labels[label[1]] = label[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels. */
function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(url: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const response = await fetch(`${url}/metrics`, { headers });
  return { status: response.status, response, text: await response.text() };
}

describe("/metrics", () => {
  let t: TestServer;
  beforeAll(async () => {
    // No worker: the verification emails stay pending, so the outbox depth is known.
    t = await startTestServer({ metricsToken: TOKEN, emailWorker: { enabled: false } });
  });
  afterAll(() => t.close());

  it("counts HTTP and WebSocket calls by procedure and code, open sockets and subscriptions, fan-out and the outbox by status", async () => {
    const { owner, room } = await roomWith(t, false);
    await owner.api.auth.me.query();
    expect(await codeOf(owner.api.chat.messages.list.query({ roomId: randomUUID() }))).toBe("NOT_FOUND");
    const socket = await openRawSocket(t.url, { token: owner.token });
    expect((await socket.call("query", "auth.me")).result?.type).toBe("data");
    const subscription = await socket.call("subscription", "chat.events", { roomId: room.id });
    expect(subscription.result?.type).toBe("started");
    const message = await send(owner.api, room.id, "counted once");
    await owner.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    const eventsReceived = () =>
      socket.received.filter((m) => m.id === subscription.id && m.result?.type === "data").length;
    await socket.next(() => eventsReceived() === 2);
    expect((await fetch(`${t.url}/api/openapi.json`)).status).toBe(200);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);

    const { status, response, text } = await scrape(t.url);
    expect(status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseMetrics(text);
    const calls = (transport: string, procedure: string, code: string) =>
      sampleValue(samples, "parley_rpc_duration_seconds_count", { transport, procedure, code });
    expect(calls("http", "auth.register", "OK")).toBe(1);
    expect(calls("http", "chat.rooms.create", "OK")).toBe(1);
    expect(calls("http", "auth.me", "OK")).toBe(1);
    expect(calls("http", "chat.messages.list", "NOT_FOUND")).toBe(1);
    expect(calls("http", "chat.messages.send", "OK")).toBe(1);
    expect(calls("ws", "auth.me", "OK")).toBe(1);
    expect(calls("ws", "chat.events", "OK")).toBe(1);
    expect(
      sampleValue(samples, "parley_rpc_duration_seconds_bucket", {
        transport: "ws",
        procedure: "auth.me",
        code: "OK",
        le: "+Inf",
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, "parley_http_request_duration_seconds_count", {
        method: "POST",
        route: "/trpc",
        status: "200",
      }),
    ).toBe(4);

    expect(sampleValue(samples, "parley_websockets_open")).toBe(1);
    expect(sampleValue(samples, "parley_subscriptions_open")).toBe(1);
    expect(sampleValue(samples, "parley_http_request_duration_seconds_count", { route: "/api" })).toBe(1);
    expect(sampleValue(samples, "parley_http_request_duration_seconds_count", { route: "/healthz" })).toBe(1);
    // Seconds, not milliseconds: a few fast calls sum to well under a second each.
    const callSeconds = sampleValue(samples, "parley_rpc_duration_seconds_sum", {
      transport: "ws",
      procedure: "auth.me",
      code: "OK",
    });
    expect(callSeconds).toBeGreaterThan(0);
    expect(callSeconds).toBeLessThan(5);
    const httpSeconds = sampleValue(samples, "parley_http_request_duration_seconds_sum", {
      route: "/healthz",
    });
    expect(httpSeconds).toBeGreaterThan(0);
    expect(httpSeconds).toBeLessThan(5);

    // The message and the reaction, each fanned out once to the one subscriber; only the message has a lag.
    expect(sampleValue(samples, "parley_events_fanned_out_total")).toBe(2);
    expect(sampleValue(samples, "parley_event_deliveries_total")).toBe(2);
    expect(sampleValue(samples, "parley_message_deliver_lag_seconds_count")).toBe(1);
    const lagSeconds = sampleValue(samples, "parley_message_deliver_lag_seconds_sum") ?? -1;
    expect(lagSeconds).toBeGreaterThanOrEqual(0);
    expect(lagSeconds).toBeLessThan(5);

    // One account registered: its verification email waits in the outbox.
    expect(sampleValue(samples, "parley_email_outbox_jobs", { status: "pending" })).toBe(1);
    expect(sampleValue(samples, "parley_email_outbox_jobs", { status: "sent" })).toBe(0);

    expect(sampleValue(samples, "parley_database_info", { kind: "postgres" })).toBe(1);
    expect(sampleValue(samples, "parley_db_pool_max")).toBe(10);
    expect(sampleValue(samples, "parley_db_pool_connections")).toBeGreaterThan(0);
    expect(sampleValue(samples, "parley_db_pool_waiting")).toBe(0);
    expect(sampleValue(samples, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);

    // Closed: both gauges go back down (the server's side of the socket has closed too).
    const [serverSide] = t.server.webSocketServer.clients;
    const serverClosed = new Promise((resolve) => serverSide?.once("close", resolve));
    socket.close();
    await serverClosed;
    const after = parseMetrics((await scrape(t.url)).text);
    expect(sampleValue(after, "parley_websockets_open")).toBe(0);
    expect(sampleValue(after, "parley_subscriptions_open")).toBe(0);
  });

  it("the example Grafana dashboard (docs/grafana-dashboard.json) queries only metrics the server exposes", async () => {
    const dashboard = readFileSync(new URL("../../../docs/grafana-dashboard.json", import.meta.url), "utf8");
    const queried = new Set(dashboard.match(/\b(?:parley|process|nodejs)_\w+/g));
    expect(queried.size).toBeGreaterThan(10);
    const exposed = new Set(
      (await scrape(t.url)).text
        .split("\n")
        .filter((line) => line.startsWith("# TYPE "))
        .map((line) => line.split(" ")[2]),
    );
    const family = (name: string) => name.replace(/_(bucket|count|sum)$/, "");
    expect([...queried].filter((name) => !exposed.has(name) && !exposed.has(family(name)))).toEqual([]);
  });

  it("refuses a scrape without the token, or with a wrong one, with 401 and no metrics", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer wrong-token" },
      { authorization: `Bearer ${TOKEN}x` },
      // The right token without the scheme.
      { authorization: TOKEN },
    ];
    for (const headers of attempts) {
      const { status, response, text } = await scrape(t.url, headers);
      expect(status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(text).not.toContain("parley_");
      expect(text).not.toContain("process_");
    }
  });
});

describe("/metrics without a token", () => {
  it("counts as this machine only the loopback addresses", () => {
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) expect(isLoopback(address)).toBe(true);
    for (const address of ["192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "", undefined]) {
      expect(isLoopback(address)).toBe(false);
    }
  });

  it("is not found in production, even for a browser beside the web app (whose pages answer any GET)", async () => {
    const webDistDir = mkdtempSync(join(tmpdir(), "parley-web-"));
    writeFileSync(join(webDistDir, "index.html"), "<!doctype html><title>Parley</title>");
    try {
      await using t = await startTestServer({ production: true, webDistDir });
      for (const accept of ["text/plain", "text/html", "*/*"]) {
        const { status, text } = await scrape(t.url, { accept });
        expect(status).toBe(404);
        expect(text).not.toContain("parley_");
        expect(text).not.toContain("<title>");
      }
    } finally {
      rmSync(webDistDir, { recursive: true, force: true });
    }
  });

  it("answers this machine (loopback) in development", async () => {
    await using t = await startTestServer();
    const { status, text } = await scrape(t.url, {});
    expect(status).toBe(200);
    expect(parseMetrics(text).some((s) => s.name === "parley_websockets_open")).toBe(true);
  });

  it("keeps two servers in one process apart: each counts its own calls", async () => {
    await using a = await startTestServer();
    await using b = await startTestServer();
    await a.client().auth.me.query();
    await a.client().auth.me.query();
    await b.client().auth.me.query();
    const count = async (url: string) =>
      sampleValue(parseMetrics((await scrape(url, {})).text), "parley_rpc_duration_seconds_count", {
        transport: "http",
        procedure: "auth.me",
        code: "OK",
      });
    expect(await count(a.url)).toBe(2);
    expect(await count(b.url)).toBe(1);
  });
});
