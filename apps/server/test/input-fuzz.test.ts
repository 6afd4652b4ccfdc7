import { appendFileSync } from "node:fs";
import { roomWith } from "@parley/testing/chat-fixtures";
import { encode, type FuzzInput, fuzzInputs } from "@parley/testing/fuzz-inputs";
import {
  acceptsWireInput,
  createFuzzWorld,
  type FuzzWorld,
  fixtureOf,
  listProcedures,
  type ProcedureInfo,
  procedureFixtures,
  tokenOf,
  validInput,
} from "@parley/testing/procedure-fixtures";
import { tableFingerprint } from "@parley/testing/table-fingerprint";
import { type CallOutcome, callHttp, WsLane } from "@parley/testing/wire-calls";
import fc from "fast-check";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// Test knobs: FUZZ_RUNS inputs per procedure (CI: the default), FUZZ_SEED to replay a run,
// FUZZ_REPORT a file that gets a line per procedure as it finishes (long runs).
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const REPORT = process.env.FUZZ_REPORT;
// Calls per property run: one fingerprint pair per batch, so long runs take larger batches.
const BATCH = Math.min(RUNS, RUNS >= 1000 ? 100 : 25);
const CONCURRENCY = 8;

const procedures = listProcedures();
const errorLogs: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const counts = new Map<string, Record<string, number>>();
const startedAt = Date.now();

let t: TestServer;
let world: FuzzWorld;
let fingerprint: () => Promise<string>;

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
  // Errors only: every 500 is logged at "error" with its cause, which is what a failure report needs.
  const logger = pino({ level: "error" }, { write: (line: string) => void errorLogs.push(line) });
  // Rate limits are lifted by startTestServer; the email worker stays off so that nothing but the
  // fuzzed calls writes while a batch runs.
  t = await startTestServer({ logger, emailWorker: { enabled: false } });
  world = await createFuzzWorld(t);
  fingerprint = await tableFingerprint(t);
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
  const total = [...counts.values()].reduce((sum, c) => sum + (c.total ?? 0), 0);
  console.log(
    `[fuzz] seed ${SEED}, ${RUNS} inputs per procedure, ${procedures.length} procedures, ${total} inputs in ${
      (Date.now() - startedAt) / 1000
    } s`,
  );
  await t?.close();
});

interface Call {
  input: FuzzInput;
  signedIn: boolean;
  transport: "http" | "ws";
}

interface Answered extends Call {
  outcome: CallOutcome;
}

const callArbitrary = (inputs: fc.Arbitrary<FuzzInput>) =>
  fc.record({
    input: inputs,
    signedIn: fc.oneof(
      { weight: 3, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    transport: fc.constantFrom<"http" | "ws">("http", "ws"),
  });

/** WebSocket lanes by worker and token, kept open across the batches of one procedure. */
type Lanes = Map<number, Map<string, WsLane>>;

function laneFor(lanes: Lanes, worker: number, token: string | undefined): WsLane {
  const own = lanes.get(worker) ?? new Map<string, WsLane>();
  lanes.set(worker, own);
  const key = token ?? "anonymous";
  let lane = own.get(key);
  if (!lane) {
    lane = new WsLane(t.url, token);
    own.set(key, lane);
  }
  return lane;
}

function closeLanes(lanes: Lanes) {
  for (const own of lanes.values()) for (const lane of own.values()) lane.close();
}

/** Runs the calls, CONCURRENCY at a time, each WebSocket lane carrying one call at a time. */
async function runCalls(
  procedure: ProcedureInfo,
  lanes: Lanes,
  calls: Call[],
  tokens: (string | undefined)[],
  oneOff: boolean,
) {
  const answered: Answered[] = [];
  let next = 0;
  const worker = async (workerIndex: number) => {
    for (let index = next++; index < calls.length; index = next++) {
      const call = calls[index] as Call;
      const token = tokens[index];
      let outcome: CallOutcome;
      try {
        if (call.transport === "http") {
          outcome = await callHttp(t.url, procedure.type, procedure.path, call.input.body, token);
        } else if (oneOff) {
          // A token per call (logout ends it): a socket per call too.
          const lane = new WsLane(t.url, token);
          outcome = await lane
            .call(procedure.type, procedure.path, call.input.body)
            .finally(() => lane.close());
        } else {
          outcome = await laneFor(lanes, workerIndex, token).call(
            procedure.type,
            procedure.path,
            call.input.body,
          );
        }
      } catch (error) {
        outcome = { transport: call.transport, status: 0, code: "transport error", message: String(error) };
      }
      answered.push({ ...call, outcome });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)));
  return answered;
}

const describeCall = (procedure: ProcedureInfo, { input, signedIn, transport, outcome }: Answered) =>
  `${procedure.path} over ${transport} ${signedIn ? "signed in" : "anonymous"}, ${input.family} (${input.label}): ${
    outcome.status
  } ${outcome.code} ${outcome.message.slice(0, 200)}; input ${String(input.body).slice(0, 300)}`;

function count(path: string, calls: Call[]) {
  const c = counts.get(path) ?? {};
  for (const call of calls) {
    c.total = (c.total ?? 0) + 1;
    c[call.input.family] = (c[call.input.family] ?? 0) + 1;
    c[call.transport] = (c[call.transport] ?? 0) + 1;
  }
  counts.set(path, c);
}

async function checkServerHealthy(procedure: ProcedureInfo) {
  const health = await fetch(`${t.url}/healthz`);
  expect(health.status, `/healthz after ${procedure.path}`).toBe(200);
  expect(await world.member.api.auth.me.query()).toMatchObject({ id: world.member.user.id });
  expect(unhandled, `unhandled rejections after ${procedure.path}`).toEqual([]);
  const logged = errorLogs.splice(0).map((line) => {
    const entry = JSON.parse(line) as {
      msg?: string;
      path?: string;
      err?: { type?: string; message?: string };
    };
    return `${entry.msg} (${entry.path}): ${entry.err?.type} ${entry.err?.message}`;
  });
  expect([...new Set(logged)], `errors logged while fuzzing ${procedure.path}`).toEqual([]);
  expect(({} as Record<string, unknown>).polluted, "Object.prototype polluted").toBeUndefined();
  expect(({} as Record<string, unknown>).role, "Object.prototype polluted").toBeUndefined();
}

describe("input fuzzing: every procedure, both transports, signed in and anonymous", () => {
  it("has fixtures for exactly the procedures of the app router", () => {
    expect(Object.keys(procedureFixtures).sort()).toEqual(procedures.map((p) => p.path).sort());
  });

  for (const [index, procedure] of procedures.entries()) {
    it(`${procedure.path} refuses bad input with a 4xx that writes nothing, and never answers 5xx`, {
      timeout: 60_000 + RUNS * 100,
    }, async () => {
      const { caller } = fixtureOf(procedure.path);
      const calls = callArbitrary(fuzzInputs(procedure, validInput(procedure, world)));
      const lanes: Lanes = new Map();
      const started = Date.now();
      let passed = false;
      errorLogs.length = 0;
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(calls, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
            count(procedure.path, batch);
            const verdicts = batch.map((call) => acceptsWireInput(procedure, call.input.body));
            const refused = batch.filter((_, i) => !verdicts[i]);
            const accepted = batch.filter((_, i) => verdicts[i]);
            const tokensFor = (list: Call[]) =>
              Promise.all(list.map((call) => (call.signedIn ? tokenOf(world, caller) : undefined)));

            // Sessions made for the calls are writes of their own: made before the first fingerprint.
            const refusedTokens = await tokensFor(refused);
            const before = await fingerprint();
            const refusals = await runCalls(procedure, lanes, refused, refusedTokens, caller === "fresh");
            expect(await fingerprint(), `rows written by refused calls of ${procedure.path}`).toBe(before);
            for (const answer of refusals) {
              const { status } = answer.outcome;
              expect(status >= 400 && status < 500, describeCall(procedure, answer)).toBe(true);
            }

            const answers = await runCalls(
              procedure,
              lanes,
              accepted,
              await tokensFor(accepted),
              caller === "fresh",
            );
            for (const answer of answers) {
              const { status, code } = answer.outcome;
              expect(
                status > 0 && status < 500 && code !== "INTERNAL_SERVER_ERROR",
                describeCall(procedure, answer),
              ).toBe(true);
            }
          }),
          // No shrinking: each failure message names the call, and shrinking would replay hundreds of them.
          { seed: SEED + index, numRuns: Math.ceil(RUNS / BATCH), endOnFailure: true },
        );
        passed = true;
      } finally {
        closeLanes(lanes);
        const seconds = (Date.now() - started) / 1000;
        const line = `[fuzz] ${procedure.path} ${passed ? "passed" : "FAILED"}, seed ${SEED + index}, ${seconds} s: ${JSON.stringify(counts.get(procedure.path))}`;
        console.log(line);
        if (REPORT) appendFileSync(REPORT, `${line}\n`);
      }
      await checkServerHealthy(procedure);
    });
  }
});

describe("rate limits under fuzzed input", () => {
  it("answer TOO_MANY_REQUESTS once spent, never 5xx, on auth, forms and send, over both transports", async () => {
    const limit = { points: 5, durationSeconds: 600 };
    await using limited = await startTestServer({
      emailWorker: { enabled: false },
      rateLimits: { auth: limit, forms: limit, send: limit },
    });
    // Registering spends one of the address's auth points.
    const { owner, room } = await roomWith(limited, false);
    const valid: Record<string, { input: unknown; token?: string }> = {
      "auth.login": { input: { email: "nobody@example.com", password: "not the password" } },
      "forms.contact.submit": {
        input: { name: "Ada", email: "ada@acme.io", subject: "Hi", message: "A message long enough." },
      },
      "chat.messages.send": {
        input: { roomId: room.id, content: "hello", clientMessageId: "c1" },
        token: owner.token,
      },
    };
    for (const [path, { input, token }] of Object.entries(valid)) {
      const procedure = procedures.find((p) => p.path === path);
      if (!procedure) throw new Error(`${path} is not in the router`);
      const fuzzed = fc.sample(fuzzInputs(procedure, fc.constant(input)), { seed: SEED, numRuns: 20 });
      const inputs = [...Array.from({ length: 8 }, () => encode(input)), ...fuzzed.map((f) => f.body)];
      const lane = new WsLane(limited.url, token);
      const codes: string[] = [];
      try {
        for (const [i, body] of inputs.entries()) {
          const outcome =
            i % 2 === 0
              ? await callHttp(limited.url, procedure.type, path, body, token)
              : await lane.call(procedure.type, path, body);
          expect(
            outcome.status > 0 && outcome.status < 500,
            `${path} ${outcome.code} ${outcome.message}`,
          ).toBe(true);
          codes.push(outcome.code);
        }
      } finally {
        lane.close();
      }
      // Five points: the sixth valid call is refused, the fifth for login (registering spent one).
      const firstRefused = codes.indexOf("TOO_MANY_REQUESTS");
      expect(firstRefused, `${path}: ${codes.join(" ")}`).toBeGreaterThanOrEqual(4);
      expect(firstRefused, `${path}: ${codes.join(" ")}`).toBeLessThanOrEqual(5);
      expect(codes.slice(firstRefused, 8), path).toEqual(Array(8 - firstRefused).fill("TOO_MANY_REQUESTS"));
    }
  });
});
