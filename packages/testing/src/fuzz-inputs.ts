import fc from "fast-check";
import superjson from "superjson";
import type { ProcedureInfo } from "./procedure-fixtures.ts";
import { type Path, type Position, positions, stringBounds } from "./zod-arbitraries.ts";

export type Family = "valid" | "near-valid" | "hostile";

/** One input as it goes on the wire: the transformer's envelope as JSON text (undefined: none). */
export interface FuzzInput {
  family: Family;
  /** What was done to the input, for failure reports. */
  label: string;
  body: string | undefined;
}

/** The superjson envelope of a value, as a client sends it. */
export function encode(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(superjson.serialize(value));
}

function copyOf(value: unknown): Record<string | number, unknown> {
  if (Array.isArray(value)) return Object.assign([], value) as unknown as Record<number, unknown>;
  return typeof value === "object" && value !== null ? { ...value } : {};
}

function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  const base = copyOf(value);
  base[head] = setAt(base[head], rest, replacement);
  return base;
}

function deleteAt(value: unknown, path: Path): unknown {
  const [head, ...rest] = path;
  if (head === undefined || typeof value !== "object" || value === null) return value;
  const base = copyOf(value);
  if (rest.length === 0) delete base[head];
  else base[head] = deleteAt(base[head], rest);
  return base;
}

export const MEGABYTE = 1_000_000;

/** Strings that break databases, terminals, renderers and length checks. */
export const hostileStrings: [string, string][] = [
  ["a lone low surrogate", "x\udfff"],
  ["a lone high surrogate", "\ud800"],
  ["a reversed surrogate pair", "\udc00\ud800"],
  ["a NUL", "a\u0000b"],
  ["C0 controls and an escape sequence", "\u0001\u0007\u001b[31mred\u001f"],
  ["DEL", "\u007f"],
  ["C1 controls", "\u0085\u009b"],
  ["a bidi override", "\u202egnp.exe"],
  ["bidi isolates", "\u2066x\u2069"],
  ["zero-width characters", "\u200b\u200d\ufeff"],
  ["a line separator", "a\u2028b"],
  ["noncharacters", "\uffff\ufffe"],
  ["a combining-mark flood", `a${"\u0301".repeat(5000)}`],
  ["SQL", "' OR 1=1; DROP TABLE users; --"],
  ["tsquery operators", "!(&|:* <-> ''"],
  ["LIKE wildcards", "%_\\%"],
  ["HTML", "<script>alert(1)</script>"],
  ["only whitespace", "   \t \n "],
  ["1 MB", "a".repeat(MEGABYTE)],
  ["1 MB of astral characters", "😀".repeat(MEGABYTE / 4)],
  ["1 MB ending in a lone surrogate", `${"a".repeat(MEGABYTE - 10)}\udfff`],
];

const deepArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

/** Whole inputs of the wrong shape, as `json` of the envelope (raw JSON text). */
const hostileRoots: [string, (valid: string) => string][] = [
  ["a number", () => "42"],
  ["a string", () => '"input"'],
  ["true", () => "true"],
  ["null", () => "null"],
  ["an empty array", () => "[]"],
  ["the valid input in an array", (valid) => `[${valid}]`],
  ["arrays nested 10,000 deep", () => deepArray(10_000)],
  ["objects nested 10,000 deep", () => deepObject(10_000)],
  ["a __proto__ key", (valid) => withKeys(valid, '"__proto__":{"role":"admin","polluted":true}')],
  [
    "a constructor.prototype key",
    (valid) => withKeys(valid, '"constructor":{"prototype":{"polluted":true}}'),
  ],
  ["a 50,000-key object", () => `{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":1`).join(",")}}`],
];

function withKeys(objectJson: string, keys: string): string {
  return objectJson.startsWith("{")
    ? `{${keys}${objectJson === "{}" ? "" : ","}${objectJson.slice(1)}`
    : `{${keys}}`;
}

/** superjson envelopes that lie about their contents: unknown types, cycles, prototype paths. */
const metaTricks: [string, (valid: string, key: string) => string][] = [
  ["an unknown superjson type", (v, k) => `{"json":${v},"meta":{"values":{"${k}":["weird"]}}}`],
  ["an unknown custom type", (v, k) => `{"json":${v},"meta":{"values":{"${k}":[["custom","nope"]]}}}`],
  ["an unregistered class", (v, k) => `{"json":${v},"meta":{"values":{"${k}":[["class","Nope"]]}}}`],
  ["an unknown symbol", (v, k) => `{"json":${v},"meta":{"values":{"${k}":[["symbol","nope"]]}}}`],
  ["a root Map on a non-iterable", (v) => `{"json":${v},"meta":{"values":["map"]}}`],
  ["a root Set on a number", () => '{"json":5,"meta":{"values":["set"]}}'],
  [
    "a huge BigInt",
    (v, k) => `{"json":${withKeys(v, `"${k}":"1e999999"`)},"meta":{"values":{"${k}":["bigint"]}}}`,
  ],
  ["a Date where text goes", (v, k) => `{"json":${v},"meta":{"values":{"${k}":["Date"]}}}`],
  ["undefined on a field", (v, k) => `{"json":${v},"meta":{"values":{"${k}":["undefined"]}}}`],
  ["a __proto__ value path", (v) => `{"json":${v},"meta":{"values":{"__proto__.polluted":["undefined"]}}}`],
  [
    "a constructor.prototype value path",
    (v) => `{"json":${v},"meta":{"values":{"constructor.prototype.polluted":["undefined"]}}}`,
  ],
  [
    "a __proto__ reference",
    (v, k) => `{"json":${v},"meta":{"referentialEqualities":{"${k}":["__proto__.x"]}}}`,
  ],
  [
    "a self-referencing cycle",
    (v, k) => `{"json":${withKeys(v, `"${k}":{}`)},"meta":{"referentialEqualities":{"${k}":["${k}.self"]}}}`,
  ],
  [
    "a two-way cycle",
    (v, k) =>
      `{"json":${withKeys(v, `"${k}":{},"other":{}`)},"meta":{"referentialEqualities":{"${k}":["other.x"],"other":["${k}.x"]}}}`,
  ],
  ["root references", (v) => `{"json":${v},"meta":{"referentialEqualities":["a.b"]}}`],
  [
    "a 10,000-deep value path",
    (v) => `{"json":${v},"meta":{"values":{"${"a.".repeat(10_000)}a":["undefined"]}}}`,
  ],
  ["meta as a string", (v) => `{"json":${v},"meta":"x"}`],
  ["meta as null", (v) => `{"json":${v},"meta":null}`],
  ["values as a number", (v) => `{"json":${v},"meta":{"values":7}}`],
  ["no json, only meta", () => '{"meta":{"values":{"a":["Date"]}}}'],
  ["no envelope", (v) => v],
];

function nearValidBreaks(position: Position): [string, (value: unknown) => unknown][] {
  const wrongTypes: [string, unknown][] = [
    ["a number", 42],
    ["null", null],
    ["an object", { $gt: "" }],
    ["an array", ["x"]],
    ["true", true],
  ];
  const breaks: [string, (value: unknown) => unknown][] = wrongTypes
    .filter(([name]) => !(position.kind === "number" && name === "a number"))
    .filter(([name]) => !(position.kind === "boolean" && name === "true"))
    .map(([name, replacement]) => [`as ${name}`, (value) => setAt(value, position.path, replacement)]);
  breaks.push(["missing", (value) => deleteAt(value, position.path)]);
  if (position.kind === "string") {
    const { max } = stringBounds(position.schema);
    const tooLong = Number.isFinite(max) ? max + 1 : 100_000;
    breaks.push([`${tooLong} characters`, (value) => setAt(value, position.path, "a".repeat(tooLong))]);
    breaks.push(["empty", (value) => setAt(value, position.path, "")]);
  }
  if (position.kind === "number") {
    breaks.push(["-1", (value) => setAt(value, position.path, -1)]);
    breaks.push(["1.5", (value) => setAt(value, position.path, 1.5)]);
    breaks.push(["2^53", (value) => setAt(value, position.path, 2 ** 53)]);
    breaks.push(["a numeric string", (value) => setAt(value, position.path, "1")]);
  }
  if (position.kind === "enum")
    breaks.push(["not an option", (value) => setAt(value, position.path, "nope")]);
  return breaks;
}

/** Valid, near-valid (one field off) and hostile inputs for a procedure, from its valid inputs. */
export function fuzzInputs(procedure: ProcedureInfo, valid: fc.Arbitrary<unknown>): fc.Arbitrary<FuzzInput> {
  const fields = dedupe(
    procedure.inputs.flatMap((input) => positions(input).filter((p) => p.path.length > 0)),
  );
  const strings = fields.filter((field) => field.kind === "string");
  const keyOf = (position: Position | undefined) => position?.path.join(".") ?? "x";

  const validInputs = valid.map(
    (value): FuzzInput => ({ family: "valid", label: "valid", body: encode(value) }),
  );

  const breaks = fields.flatMap((field) =>
    nearValidBreaks(field).map(([name, apply]) => ({ label: `${keyOf(field)} ${name}`, apply })),
  );
  const nearValid =
    breaks.length === 0
      ? validInputs
      : fc.tuple(valid, fc.constantFrom(...breaks)).map(
          ([value, { label, apply }]): FuzzInput => ({
            family: "near-valid",
            label,
            body: encode(apply(value)),
          }),
        );

  const inStrings =
    strings.length === 0
      ? []
      : [
          fc.tuple(valid, fc.constantFrom(...strings), fc.constantFrom(...hostileStrings)).map(
            ([value, field, [name, text]]): FuzzInput => ({
              family: "hostile",
              label: `${keyOf(field)} = ${name}`,
              body: encode(setAt(value, field.path, text)),
            }),
          ),
        ];
  const roots = fc.tuple(valid, fc.constantFrom(...hostileRoots)).map(
    ([value, [name, make]]): FuzzInput => ({
      family: "hostile",
      label: `input = ${name}`,
      body: `{"json":${make(JSON.stringify(value ?? {}))}}`,
    }),
  );
  const someField =
    fields.length === 0 ? fc.constant(undefined) : fc.option(fc.constantFrom(...fields), { nil: undefined });
  const tricks = fc.tuple(valid, fc.constantFrom(...metaTricks), someField).map(
    ([value, [name, make], field]): FuzzInput => ({
      family: "hostile",
      label: `envelope with ${name}`,
      body: make(JSON.stringify(value ?? {}), keyOf(field)),
    }),
  );
  const hostile = fc.oneof(...inStrings, roots, tricks);

  return fc.oneof(
    { weight: 4, arbitrary: validInputs },
    { weight: 3, arbitrary: nearValid },
    { weight: 3, arbitrary: hostile },
  );
}

function dedupe(list: Position[]): Position[] {
  const seen = new Map<string, Position>();
  for (const position of list) {
    const key = position.path.join(".");
    if (!seen.has(key)) seen.set(key, position);
  }
  return [...seen.values()];
}
