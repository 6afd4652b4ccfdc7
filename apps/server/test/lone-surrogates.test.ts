import { LONE_SURROGATE_MESSAGE } from "@parley/api/schemas";
import { encode } from "@parley/testing/fuzz-inputs";
import {
  acceptsWireInput,
  createFuzzWorld,
  type FuzzWorld,
  fixtureOf,
  listProcedures,
  type ProcedureInfo,
  tokenOf,
  validInput,
} from "@parley/testing/procedure-fixtures";
import { tableFingerprint } from "@parley/testing/table-fingerprint";
import { callHttp, WsLane } from "@parley/testing/wire-calls";
import { type Path, positions } from "@parley/testing/zod-arbitraries";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// JSON.stringify keeps it as the escape `\udfff`, which jsonb refuses (22P05).
const LONE_SURROGATE = "x\udfff";
// PostgreSQL refuses it in any text (22021).
const NUL = "a\u0000b";

let t: TestServer;
let world: FuzzWorld;
let fingerprint: () => Promise<string>;
beforeAll(async () => {
  t = await startTestServer({ emailWorker: { enabled: false } });
  world = await createFuzzWorld(t);
  fingerprint = await tableFingerprint(t);
});
afterAll(() => t?.close());

const procedures = listProcedures();

/** Every position of every input parser of the procedure where a string is checked. */
function stringPaths(procedure: ProcedureInfo): Path[] {
  const seen = new Map<string, Path>();
  for (const input of procedure.inputs) {
    for (const position of positions(input)) {
      if (position.kind === "string") seen.set(position.path.join("."), position.path);
    }
  }
  return [...seen.values()];
}

/** An input the procedure's schemas accept, from a fixed seed: the surrogate is then the only fault. */
function acceptedInput(procedure: ProcedureInfo): Record<string, unknown> {
  const samples = fc.sample(validInput(procedure, world), { seed: 7, numRuns: 500 });
  const accepted = samples.find((sample) => acceptsWireInput(procedure, encode(sample)));
  if (typeof accepted !== "object" || accepted === null) {
    throw new Error(`${procedure.path}: no accepted input among 500 generated ones`);
  }
  return accepted as Record<string, unknown>;
}

/** `input` with `value` at `path`: object keys and array indexes (`userIds.0`) alike. */
function withValueAt(input: unknown, path: Path, value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (Array.isArray(input)) {
    const copy = [...input];
    copy[Number(head)] = withValueAt(copy[Number(head)], rest, value);
    return copy;
  }
  const object = typeof input === "object" && input !== null ? (input as Record<string, unknown>) : {};
  return { ...object, [head]: withValueAt(object[head], rest, value) };
}

// Inputs with no text at all (numbers, booleans): the walk rightly finds no string in them.
const NO_TEXT_INPUTS = ["auth.setMentionEmails", "chat.dms.list", "chat.threads.followed"];

describe("a lone UTF-16 surrogate in any text input", () => {
  const withText = procedures.filter((procedure) => stringPaths(procedure).length > 0);

  it("reaches every procedure that takes text (the walk finds their string positions)", () => {
    // Procedures without input take no text; every other one has at least one string position,
    // but for the few whose input is only numbers and flags.
    const withoutText = procedures.filter((p) => p.inputs.length > 0 && stringPaths(p).length === 0);
    expect(withoutText.map((p) => p.path).sort()).toEqual([...NO_TEXT_INPUTS].sort());
    expect(withText.length).toBeGreaterThan(30);
  });

  for (const procedure of withText) {
    it(`${procedure.path}: refused with BAD_REQUEST naming the field at every string position; a NUL never a 5xx`, async () => {
      const base = acceptedInput(procedure);
      const token = await tokenOf(world, fixtureOf(procedure.path).caller);
      const lane = new WsLane(t.url, token);
      const before = await fingerprint();
      try {
        for (const path of stringPaths(procedure)) {
          const body = encode(withValueAt(base, path, LONE_SURROGATE));
          const field = path.join(".");
          const outcome =
            procedure.type === "subscription"
              ? await lane.call(procedure.type, procedure.path, body)
              : await callHttp(t.url, procedure.type, procedure.path, body, token);
          expect({ field, status: outcome.status, code: outcome.code }).toEqual({
            field,
            status: 400,
            code: "BAD_REQUEST",
          });
          expect(outcome.message, field).toContain(`${field}: ${LONE_SURROGATE_MESSAGE}`);
          // Refused by the field's own rules (an id's format, "no control characters"), or harmless
          // (a honeypot); admin.users.setRole's user id once carried one to PostgreSQL: a 500.
          const nulBody = encode(withValueAt(base, path, NUL));
          const nul =
            procedure.type === "subscription"
              ? await lane.call(procedure.type, procedure.path, nulBody)
              : await callHttp(t.url, procedure.type, procedure.path, nulBody, token);
          expect({ field, status: nul.status < 500 ? "not 5xx" : nul.status }).toEqual({
            field,
            status: "not 5xx",
          });
        }
      } finally {
        lane.close();
      }
      expect(await fingerprint(), "rows written").toBe(before);
    });
  }

  it("is refused by the plain REST doors too (POST /api/forms/demo and /api/forms/contact)", async () => {
    const forms = {
      demo: {
        name: "Ada",
        workEmail: "ada@acme.io",
        company: "Acme",
        companySize: "11-50",
        useCase: "We would like to see the product.",
      },
      contact: { name: "Ada", email: "ada@acme.io", subject: "Hello", message: "A message long enough." },
    };
    const before = await fingerprint();
    for (const [form, good] of Object.entries(forms)) {
      // companySize is an enum: only its listed values pass, whatever their encoding.
      for (const field of Object.keys(good).filter((key) => key !== "companySize")) {
        const response = await fetch(`${t.url}/api/forms/${form}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...good, [field]: LONE_SURROGATE }),
        });
        const text = await response.text();
        expect({ form, field, status: response.status }).toEqual({ form, field, status: 400 });
        expect(text, `${form}.${field}`).toContain(LONE_SURROGATE_MESSAGE);
      }
    }
    expect(await fingerprint(), "rows written").toBe(before);
  });

  it("is accepted when paired: an astral character is text like any other", async () => {
    const room = await world.member.api.chat.rooms.create.mutate({ name: "Astral 😀", isPrivate: false });
    const message = await world.member.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "𝕏 marks 😀",
      clientMessageId: "astral-1",
    });
    const edited = await world.member.api.chat.messages.edit.mutate({
      messageId: message.id,
      content: "🎉 edited",
    });
    expect(edited.content).toBe("🎉 edited");
  });
});
