/**
 * Whole numbers in a query string, a path or a form body arrive as text. The schemas declare them
 * as plain integers (so the OpenAPI document says `integer`, see http/schema.ts `Int`); this turns
 * decimal text into the number before validation, as Elysia's coercing `t.Integer` did. Anything
 * else is left as it is and refused by validation, naming the field.
 */

interface RouteInfo {
  method: string;
  path: string;
  hooks?: { query?: unknown; params?: unknown; body?: unknown };
}

type Part = "query" | "params" | "body";

/** The integer fields each route declares at the top of its query, path and body, by `METHOD path`. */
export function integerFields(routes: readonly RouteInfo[]): Map<string, Record<Part, string[]>> {
  const out = new Map<string, Record<Part, string[]>>();
  for (const r of routes) {
    const fields = { query: names(r.hooks?.query), params: names(r.hooks?.params), body: names(r.hooks?.body) };
    if (fields.query.length || fields.params.length || fields.body.length) out.set(`${r.method} ${r.path}`, fields);
  }
  return out;
}

const names = (schema: unknown): string[] => {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return Object.entries(properties).filter(([, s]) => s?.type === "integer").map(([name]) => name);
};

/** Optional sign, 1 to 16 digits: every safe integer, nothing that could round. */
const DECIMAL = /^-?\d{1,16}$/;

/** Replaces, in place, each named field whose value is decimal text of a safe integer by that number. */
export function coerceIntegerText(values: unknown, fields: readonly string[]): void {
  if (!values || typeof values !== "object" || Array.isArray(values)) return;
  const record = values as Record<string, unknown>;
  for (const name of fields) {
    const value = record[name];
    if (typeof value !== "string" || !DECIMAL.test(value)) continue;
    const n = Number(value);
    if (Number.isSafeInteger(n)) record[name] = n;
  }
}
