import { Checker, type ConfigPath } from "./checker.ts";
import { nearest } from "./suggest.ts";

/**
 * The part of JSON Schema that the config's schema (schema.ts) is written in. TypeBox builds these
 * objects, so the reader below walks the very schema that `tgcpa config-schema` publishes.
 */
export interface JsonSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean" | "null";
  properties?: Record<string, JsonSchema>;
  required?: string[];
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  default?: unknown;
  /**
   * What a valid value looks like, said instead of the generic message when a value is refused (for a
   * list: when it has too few items; "must be a list" stays). The YAML language server shows it too.
   */
  errorMessage?: string;
  /** A secret: never repeated in a message. */
  writeOnly?: boolean;
}

/** A value that was refused (its issue is recorded), as opposed to one that was left out (undefined). */
export const INVALID: unique symbol = Symbol("invalid");

const absent = (value: unknown) => value === undefined || value === null;
const acceptsNull = (s: JsonSchema): boolean => s.type === "null" || (s.anyOf?.some(acceptsNull) ?? false);

/**
 * Reads an untrusted YAML tree against a schema, the way people and `${ENV}` substitution write it,
 * recording every problem with its path rather than stopping at the first:
 * - null is a key left out (its default applies), unless the schema allows null;
 * - a number stands for a string (`account_id: 1`), and a string of digits for a number or a whole
 *   number, `"true"`/`"false"` for a boolean: `${PORT}` is substituted as text;
 * - a word from an `enum` is matched whatever its case and read back as the schema spells it;
 * - a key the schema does not know is refused, naming the nearest known one.
 * Returns the value with every default filled in, undefined when it is left out and has no default,
 * or INVALID. Within a mapping, a refused value reads as its default (or stays out) so that the
 * rules that follow see a well-formed tree; the caller discards it when there are issues.
 */
export function readValue(s: JsonSchema, value: unknown, path: ConfigPath, c: Checker, message = s.errorMessage): unknown {
  if (value === null && acceptsNull(s)) return null;
  if (absent(value)) {
    if (s.default === undefined || s.default === null) return s.default;
    return readValue(s, structuredClone(s.default), path, c);
  }
  if (s.enum) return readWord(s, value, path, c, message);
  if (s.anyOf) return readUnion(s, value, path, c, message);
  switch (s.type) {
    case "object": return readMapping(s, value, path, c);
    case "array": return readList(s, value, path, c, message);
    case "string": return readString(s, value, path, c, message);
    case "integer":
    case "number": return readNumber(s, value, path, c, message);
    case "boolean":
      if (value === "true" || value === "false") return value === "true"; // from ${ENV}
      return typeof value === "boolean" ? value : refuse(c, path, message ?? "must be true or false");
    default:
      return value; // no type: any value (a JSON body)
  }
}

function refuse(c: Checker, path: ConfigPath, message: string): typeof INVALID {
  c.fail(path, message);
  return INVALID;
}

function readWord(s: JsonSchema, value: unknown, path: ConfigPath, c: Checker, message: string | undefined): unknown {
  const text = typeof value === "string" ? value.toLowerCase() : undefined;
  const hit = s.enum!.find((option) => typeof option === "string" && option.toLowerCase() === text);
  return hit ?? refuse(c, path, message ?? `must be one of: ${s.enum!.join(", ")}`);
}

function readString(s: JsonSchema, value: unknown, path: ConfigPath, c: Checker, message: string | undefined): unknown {
  const text = typeof value === "number" || typeof value === "bigint" ? String(value) : value;
  if (typeof text !== "string") return refuse(c, path, message ?? "must be a string");
  if (s.minLength !== undefined && text.length < s.minLength) {
    return refuse(c, path, message ?? (s.minLength === 1 ? "must not be empty" : `must be at least ${s.minLength} characters`));
  }
  if (s.pattern !== undefined && !new RegExp(s.pattern, "u").test(text)) {
    // The value read is quoted (after ${ENV} substitution it may differ from the file), a secret never.
    return refuse(c, path, `${s.writeOnly ? "" : `${JSON.stringify(text)} `}${message ?? `must match ${s.pattern}`}`);
  }
  return text;
}

function readNumber(s: JsonSchema, value: unknown, path: ConfigPath, c: Checker, message: string | undefined): unknown {
  const whole = s.type === "integer";
  let n = value;
  if (typeof n === "string" && (whole ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/).test(n.trim())) n = Number(n); // from ${ENV}
  if (typeof n !== "number" || !(whole ? Number.isSafeInteger(n) : Number.isFinite(n))) {
    return refuse(c, path, message ?? (whole ? "must be a whole number" : "must be a number"));
  }
  const { minimum: min, maximum: max } = s;
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
    return refuse(c, path, message ?? `must be ${range}`);
  }
  return n;
}

function readList(s: JsonSchema, value: unknown, path: ConfigPath, c: Checker, message: string | undefined): unknown {
  if (!Array.isArray(value)) return refuse(c, path, "must be a list");
  // A refused item stays in its place as undefined: later rules name items by their index.
  const items = value.map((item, i) => {
    const read = s.items ? readValue(s.items, item, [...path, i], c) : item;
    if (read === undefined) c.fail([...path, i], "is required");
    return read === INVALID ? undefined : read;
  });
  if (s.minItems !== undefined && value.length < s.minItems) {
    return refuse(c, path, message ?? (s.minItems === 1 ? "must not be empty" : `needs at least ${s.minItems} items`));
  }
  return items;
}

function readMapping(s: JsonSchema, value: unknown, path: ConfigPath, c: Checker): unknown {
  if (typeof value !== "object" || Array.isArray(value)) return refuse(c, path, "must be a mapping");
  const given = value as Record<string, unknown>;
  const declared = s.properties ?? {};
  const out: Record<string, unknown> = {};
  // defineProperty: a key such as __proto__ is kept as a key, not taken as the object's prototype.
  const keep = (key: string, v: unknown) => Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  /** required: a declared key that must be written, or a key written beside the declared ones (a name) with no value. */
  const read = (key: string, schema: JsonSchema, required: boolean) => {
    const at = [...path, key];
    const v = readValue(schema, Object.hasOwn(given, key) ? given[key] : undefined, at, c);
    if (v === INVALID) {
      const fallback = readValue(schema, undefined, at, new Checker()); // its default, quietly: the issue is already recorded
      keep(key, fallback === INVALID ? undefined : fallback);
    }
    else if (v !== undefined) keep(key, v);
    else if (required) c.fail(at, "is required");
  };
  for (const [key, schema] of Object.entries(declared)) read(key, schema, s.required?.includes(key) ?? false);
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(declared, key)) continue;
    const names = s.propertyNames;
    if (names?.pattern !== undefined && !new RegExp(names.pattern, "u").test(key)) c.fail([...path, key], names.errorMessage ?? `the name must match ${names.pattern}`);
    const pattern = Object.entries(s.patternProperties ?? {}).find(([p]) => new RegExp(p, "u").test(key))?.[1];
    const schema = pattern ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
    if (schema) read(key, schema, true);
    else if (s.additionalProperties === false) c.fail([...path, key], unknownKey(key, Object.keys(declared)));
    else keep(key, given[key]);
  }
  return out;
}

function unknownKey(key: string, known: readonly string[]): string {
  const near = nearest(key, known);
  return near ? `unknown key "${key}" (did you mean "${near}"?)` : `unknown key "${key}" (expected one of: ${known.join(", ")})`;
}

const KIND_NAMES: Record<string, string> = {
  object: "a mapping", array: "a list", string: "a string", integer: "a whole number", number: "a number", boolean: "true or false",
};

/** The member of an anyOf that fits the value's kind; among several mappings, the first whose required keys are all there. */
function readUnion(s: JsonSchema, value: unknown, path: ConfigPath, c: Checker, message: string | undefined): unknown {
  const members = s.anyOf!.filter((m) => m.type !== "null");
  // A nullable value (X or null) reads as X, with X's own messages and coercions.
  if (members.length === 1) return readValue(members[0]!, value, path, c, message ?? members[0]!.errorMessage);
  const fitting = members.filter((m) => fits(m, value));
  const complete = fitting.find((m) => m.type === "object" && (m.required ?? []).every((k) => Object.hasOwn(value as object, k)));
  const chosen = complete ?? fitting[0];
  if (!chosen) {
    const kinds = [...new Set(members.map((m) => (m.enum ? `one of: ${m.enum.join(", ")}` : (KIND_NAMES[m.type ?? ""] ?? "a value"))))];
    return refuse(c, path, message ?? `must be ${kinds.length > 1 ? `${kinds.slice(0, -1).join(", ")} or ${kinds.at(-1)}` : kinds[0]}`);
  }
  return readValue(chosen, value, path, c, message ?? chosen.errorMessage);
}

function fits(s: JsonSchema, value: unknown): boolean {
  if (s.anyOf) return s.anyOf.some((m) => fits(m, value));
  if (s.enum) return typeof value === "string";
  switch (s.type) {
    case "object": return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array": return Array.isArray(value);
    case "integer":
    case "number": return typeof value === "number";
    case "string": return typeof value === "string" || typeof value === "number" || typeof value === "bigint"; // as readString
    case undefined: return true;
    default: return typeof value === s.type;
  }
}
