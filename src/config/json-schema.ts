// The config's schema as editors read it: `tgcpa config-schema` prints it and config/tgcpa.schema.json
// holds it (a test keeps the file equal to this output). The YAML language server (VS Code, Neovim,
// JetBrains…) uses it through a `# yaml-language-server: $schema=…` line to complete keys and mark
// mistakes before `tgcpa check-config` does.
import { Checker } from "./checker.ts";
import { INVALID, readValue, type JsonSchema } from "./read.ts";
import { ConfigFileSchema } from "./schema.ts";

/** `${VAR}` or `${VAR:-default}` (load.ts): any value may come from the environment, typed after substitution. */
const ENV_REF: JsonSchema & { description: string } = {
  type: "string",
  pattern: "\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}",
  description: "${VAR} or ${VAR:-default}: replaced from the environment when the config loads",
};
const ENV = { $ref: "#/definitions/env" };

/** A value a `${VAR}` string would not pass as written: typed other than string, a closed word, a pattern or a minimum length (keys). */
const constrained = (s: JsonSchema) =>
  s.type === "integer" || s.type === "number" || s.type === "boolean" || s.enum !== undefined || s.pattern !== undefined || (s.minLength ?? 0) > 6;

/** A key may be left out when its default is a valid value (api_keys' [] is not: it stays required). */
const optional = (s: JsonSchema) => s.default !== undefined && readValue(s, undefined, [], new Checker()) !== INVALID;

/** The node, also taking null (read.ts reads null as a key left out). */
function orNull(node: Record<string, unknown>): Record<string, unknown> {
  const accepts = (n: Record<string, unknown>): boolean =>
    n.type === "null" || (Array.isArray(n.type) && n.type.includes("null")) || (Array.isArray(n.anyOf) && n.anyOf.some(accepts));
  if (accepts(node) || (node.type === undefined && node.anyOf === undefined)) return node; // no type: any value, null included
  if (Array.isArray(node.anyOf)) return { ...node, anyOf: [...node.anyOf, { type: "null" }] };
  return { ...node, type: [...(Array.isArray(node.type) ? node.type : [node.type]), "null"] };
}

function forEditors(s: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = { ...s };
  // A number stands for a string (read.ts): `account_id: 1`, `payout: 1.5`.
  if (s.type === "string" && s.enum === undefined) out.type = ["string", "number"];
  if (s.properties) {
    const required = (s.required ?? []).filter((k) => !optional(s.properties![k]!));
    // A key that may be left out may also be written empty (`bots:` with every bot commented out).
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, required.includes(k) ? forEditors(v) : orNull(forEditors(v))]));
    if (required.length) out.required = required;
    else delete out.required;
  }
  if (s.items) out.items = optional(s.items) ? orNull(forEditors(s.items)) : forEditors(s.items);
  if (s.patternProperties) out.patternProperties = Object.fromEntries(Object.entries(s.patternProperties).map(([k, v]) => [k, forEditors(v)]));
  if (typeof s.additionalProperties === "object") out.additionalProperties = forEditors(s.additionalProperties);
  if (s.anyOf) {
    // One ${VAR} branch for the whole choice, not one per member.
    out.anyOf = [...s.anyOf.map((m) => (constrained(m) ? m : forEditors(m))), ...(s.anyOf.some(constrained) ? [ENV] : [])];
    return out;
  }
  if (!constrained(s)) return out;
  // The meaning stays outside, so an editor shows it whichever branch matches.
  const { description, default: fallback, examples, writeOnly, ...value } = out;
  const annotations = Object.fromEntries(Object.entries({ description, default: fallback, examples, writeOnly }).filter(([, v]) => v !== undefined));
  return { ...annotations, anyOf: [value, ENV] };
}

/**
 * A part written more than once (a postback template under each status, global and per campaign)
 * is given once under `definitions`, named by its `title`, and referred to: a fifth of the size.
 */
function shareTitled(root: object): { root: object; definitions: Record<string, object> } {
  const seen = new Map<string, string[]>();
  const collect = (node: unknown, top: boolean) => {
    if (!node || typeof node !== "object") return;
    const title = (node as { title?: unknown }).title;
    if (!top && typeof title === "string") seen.set(title, [...(seen.get(title) ?? []), JSON.stringify(node)]);
    Object.values(node).forEach((child) => collect(child, false));
  };
  collect(root, true);
  // Only a title every copy of which is the same part.
  const shared = new Set([...seen].filter(([, copies]) => copies.length > 1 && copies.every((c) => c === copies[0])).map(([title]) => title));
  const definitions: Record<string, object> = {};
  const replace = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => replace(n, false));
    if (!node || typeof node !== "object") return node;
    const title = (node as { title?: unknown }).title;
    const copy = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, replace(v, false)]));
    if (top || typeof title !== "string" || !shared.has(title)) return copy;
    const name = title.replace(/\W+/g, "-"); // "postback template" → postback-template
    definitions[name] = copy;
    return { $ref: `#/definitions/${name}` };
  };
  return { root: replace(root, true) as object, definitions };
}

export function configJsonSchema(): object {
  // JSON drops TypeBox's symbol keys (Kind, Optional): what is left is plain JSON Schema.
  const schema = JSON.parse(JSON.stringify(ConfigFileSchema)) as JsonSchema;
  const { root, definitions } = shareTitled(forEditors(schema));
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    ...root,
    description: "tgcpa's YAML config (README: Configuration). `tgcpa check-config FILE` checks what a schema cannot: macros, presets, references between keys, files.",
    definitions: { env: ENV_REF, ...definitions },
  };
}

/** The text of config/tgcpa.schema.json. */
export const renderConfigJsonSchema = () => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
