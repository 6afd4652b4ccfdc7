import fc from "fast-check";
import type { z } from "zod";

/**
 * fast-check arbitraries derived from zod 4 schemas by walking their definitions: the inputs a
 * schema accepts, the positions (paths) inside it, and the kind of value each position holds.
 * zod-fast-check, the library that did this, stops at zod 3; this covers what our inputs use
 * (object, string with length/regex/format, int/number bounds, boolean, enum, literal,
 * optional, nullable, array, union, pipe/transform) and leaves refinements to the caller's
 * overrides: generated values are a bias towards valid input, the schema itself is the oracle.
 */

type Schema = z.core.$ZodType;

interface LooseCheck {
  check?: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
}

interface LooseDef {
  type: string;
  checks?: { _zod: { def: LooseCheck } }[];
  format?: string;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  element?: Schema;
  options?: Schema[];
  entries?: Record<string, string | number>;
  values?: unknown[];
}

export function defOf(schema: Schema): LooseDef {
  return schema._zod.def as unknown as LooseDef;
}

/** Whether an object may leave this key out (zod's own notion: optional, or optional inside a pipe). */
export function isOptionalKey(schema: Schema): boolean {
  return (schema._zod as { optin?: string }).optin === "optional";
}

export interface StringBounds {
  min: number;
  max: number;
  patterns: RegExp[];
  format: string | undefined;
}

/** The length bounds, regexes and format a string schema checks itself (not through a pipe). */
export function stringBounds(schema: Schema): StringBounds {
  const def = defOf(schema);
  const bounds: StringBounds = { min: 0, max: Number.POSITIVE_INFINITY, patterns: [], format: def.format };
  for (const { _zod } of def.checks ?? []) {
    const check = _zod.def;
    if (check.check === "min_length" && check.minimum !== undefined) {
      bounds.min = Math.max(bounds.min, check.minimum);
    }
    if (check.check === "max_length" && check.maximum !== undefined) {
      bounds.max = Math.min(bounds.max, check.maximum);
    }
    if (check.check === "string_format" && check.format === "regex" && check.pattern) {
      bounds.patterns.push(check.pattern);
    }
  }
  return bounds;
}

export interface NumberBounds {
  min: number;
  max: number;
  integer: boolean;
}

export function numberBounds(schema: Schema): NumberBounds {
  const bounds: NumberBounds = { min: -1e9, max: 1e9, integer: false };
  for (const { _zod } of defOf(schema).checks ?? []) {
    const check = _zod.def;
    if (check.check === "greater_than" && check.value !== undefined) {
      bounds.min = check.inclusive ? check.value : check.value + 1;
    }
    if (check.check === "less_than" && check.value !== undefined) {
      bounds.max = check.inclusive ? check.value : check.value - 1;
    }
    if (check.check === "number_format") bounds.integer = true;
  }
  return bounds;
}

/** The schema a value at this node is first checked against: through optional/nullable and into a pipe's input. */
export function entrySchema(schema: Schema): Schema {
  const def = defOf(schema);
  if ((def.type === "optional" || def.type === "nullable" || def.type === "default") && def.innerType) {
    return entrySchema(def.innerType);
  }
  if (def.type === "pipe" && def.in) return entrySchema(def.in);
  return schema;
}

export type Path = (string | number)[];

export interface Position {
  path: Path;
  /** What the value there is first checked as: "string", "number", "boolean", "enum", "object"… */
  kind: string;
  schema: Schema;
  optional: boolean;
}

/**
 * Every position a caller's value can occupy, depth first: object keys (recursively), array
 * elements (as index 0) and union branches. Strings are the positions text can reach the database by.
 */
export function positions(schema: Schema, path: Path = [], optional = false): Position[] {
  const entry = entrySchema(schema);
  const def = defOf(entry);
  const here: Position = { path, kind: def.type, schema: entry, optional };
  if (def.type === "object" && def.shape) {
    const inner = Object.entries(def.shape).flatMap(([key, child]) =>
      positions(child, [...path, key], isOptionalKey(child)),
    );
    return [here, ...inner];
  }
  if (def.type === "array" && def.element) return [here, ...positions(def.element, [...path, 0], false)];
  if (def.type === "union" && def.options) {
    return [here, ...def.options.flatMap((option) => positions(option, path, optional).slice(1))];
  }
  return [here];
}

export interface ArbitraryOptions {
  /** Arbitraries for schemas whose refinements a walk cannot see (an emoji, a time zone), by identity. */
  known?: Map<Schema, fc.Arbitrary<unknown>>;
  /** Arbitraries for positions, by dotted path ("roomId"): real ids from the fixtures. */
  overrides?: Record<string, fc.Arbitrary<unknown>>;
}

// Text that survives trimming and whitespace collapsing unchanged: words of letters from several
// scripts (and emoji), joined by single spaces.
const word = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{1,10}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom("héllo", "Ωμέγα", "日本語", "Привет", "שלום", "مرحبا", "🎉", "👍🏽"),
  },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 }) },
);

/** Words joined by single spaces, min to max characters; one time in twenty exactly max long. */
function freeText(min: number, max: number): fc.Arbitrary<string> {
  const words = fc
    .array(word, { minLength: 1, maxLength: 30 })
    .map((list) => list.join(" ").replace(/\s+/g, " ").trim());
  const longest = fc.constant("x".repeat(Number.isFinite(max) ? max : 5000));
  return fc
    .oneof({ weight: 19, arbitrary: words }, { weight: 1, arbitrary: longest })
    .map((value) => value.slice(0, max).trim().padEnd(min, "x"));
}

const emailArbitrary = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9]{1,12}(\.[a-z0-9]{1,8})?$/),
    fc.constantFrom("example.com", "acme.io", "parley.test", "xn--bcher-kva.example", "sub.corp.example"),
  )
  .map(([local, domain]) => `${local}@${domain}`);

const isoDateTime = fc
  .tuple(
    fc.date({
      min: new Date("2000-01-01T00:00:00Z"),
      max: new Date("2099-12-31T00:00:00Z"),
      noInvalidDate: true,
    }),
    fc.constantFrom("Z", "+02:00", "-05:30", "+00:00"),
  )
  .map(([date, offset]) => date.toISOString().replace(/\.\d{3}Z$/, offset === "Z" ? "Z" : offset));

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const bounds = stringBounds(schema);
  const fits = (value: string) => value.length >= bounds.min && value.length <= bounds.max;
  if (bounds.format === "uuid") return fc.uuid();
  if (bounds.format === "email") return emailArbitrary.filter(fits);
  if (bounds.format === "datetime") return isoDateTime;
  const [pattern] = bounds.patterns;
  if (pattern) {
    return fc
      .stringMatching(pattern)
      .map((value) => (value.length > bounds.max ? value.slice(0, bounds.max) : value));
  }
  return freeText(bounds.min, bounds.max);
}

/** Values the schema is meant to accept (refinements aside: check with the schema itself). */
export function validArbitrary(
  schema: Schema,
  options: ArbitraryOptions = {},
  path: Path = [],
): fc.Arbitrary<unknown> {
  const override = options.overrides?.[path.join(".")];
  if (override) return override;
  const known = options.known?.get(schema);
  if (known) return known;
  const def = defOf(schema);
  switch (def.type) {
    case "string":
      return stringArbitrary(schema);
    case "number": {
      const { min, max, integer } = numberBounds(schema);
      return integer ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
    }
    case "boolean":
      return fc.boolean();
    case "enum":
      return fc.constantFrom(...Object.values(def.entries ?? {}));
    case "literal":
      return fc.constantFrom(...(def.values ?? []));
    case "optional":
      return fc.option(validArbitrary(def.innerType as Schema, options, path), { nil: undefined });
    case "nullable":
      return fc.option(validArbitrary(def.innerType as Schema, options, path), { nil: null });
    case "pipe": {
      // A pipe into a transform takes what its input takes; a pipe into a schema (trim, then
      // check the length) takes what that schema takes, as our transforms leave such values alone.
      const out = def.out as Schema;
      return defOf(out).type === "transform"
        ? validArbitrary(def.in as Schema, options, path)
        : validArbitrary(out, options, path);
    }
    case "array":
      return fc.array(validArbitrary(def.element as Schema, options, [...path, 0]), { maxLength: 5 });
    case "union":
      return fc.oneof(...(def.options ?? []).map((option) => validArbitrary(option, options, path)));
    case "object": {
      const shape = def.shape ?? {};
      const keys = Object.keys(shape);
      const record = Object.fromEntries(
        keys.map((key) => [key, validArbitrary(shape[key] as Schema, options, [...path, key])]),
      );
      return fc
        .record(record, { requiredKeys: keys.filter((key) => !isOptionalKey(shape[key] as Schema)) })
        .map((value) => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)));
    }
    default:
      throw new Error(`no arbitrary for zod type "${def.type}" at ${path.join(".") || "(root)"}`);
  }
}
