// A small JSON Schema checker for the shapes the OpenAPI document uses (TypeBox output): type,
// const, enum, anyOf, properties/required, patternProperties, items, format date-time. Objects with
// `properties` are closed: a field the document does not name is reported, so the document stays
// complete.
type Schema = Record<string, any>;

export function schemaProblems(schema: Schema, value: unknown, at = "$"): string[] {
  if (!schema || Object.keys(schema).length === 0) return []; // {} / unknown: anything
  if (schema.anyOf) {
    const each = (schema.anyOf as Schema[]).map((s) => schemaProblems(s, value, at));
    return each.some((p) => p.length === 0) ? [] : [`${at}: matches none of anyOf (${each.map((p) => p[0]).join(" | ")})`];
  }
  if ("const" in schema) return value === schema.const ? [] : [`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  const type = schema.type as string | undefined;
  const actual = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  if (type === "integer") return Number.isInteger(value) ? [] : [`${at}: ${JSON.stringify(value)} is not an integer`];
  if (type && type !== actual && !(type === "number" && actual === "number")) return [`${at}: ${actual} where ${type} is documented`];
  if (type === "string" && schema.format === "date-time" && Number.isNaN(Date.parse(value as string))) return [`${at}: ${JSON.stringify(value)} is not a date-time`];
  if (type === "array") return (value as unknown[]).flatMap((v, i) => schemaProblems(schema.items ?? {}, v, `${at}[${i}]`));
  if (type === "object") {
    const o = value as Record<string, unknown>;
    const out: string[] = [];
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of schema.required ?? []) if (!(key in o)) out.push(`${at}.${key}: missing`);
    for (const [key, v] of Object.entries(o)) {
      if (props[key]) out.push(...schemaProblems(props[key]!, v, `${at}.${key}`));
      else if (schema.patternProperties) {
        for (const [pattern, s] of Object.entries(schema.patternProperties as Record<string, Schema>)) if (new RegExp(pattern).test(key)) out.push(...schemaProblems(s, v, `${at}.${key}`));
      } else if (schema.properties && schema.additionalProperties !== true) out.push(`${at}.${key}: not in the document`);
    }
    return out;
  }
  return [];
}
