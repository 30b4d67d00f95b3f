/**
 * Unknown query parameters and body fields are refused, not ignored: a typo such as
 * `?statu=approve` would otherwise list every row, `{"dryrun": true}` or `{"campain": …}` in the
 * body of `POST /api/postbacks/retry` would re-send everything, and `{"clikc": …}` in an event
 * would record a lead without its click. Each route's known names are read from its own query and
 * body schemas (the ones the OpenAPI document shows), so the check never disagrees with the
 * documentation.
 */

/** The API key may travel in the query of every management route. */
const ALWAYS_ALLOWED = ["key"];

interface RouteInfo {
  method: string;
  path: string;
  hooks?: { query?: unknown; body?: unknown };
}

/**
 * The names each route declares in its query or its body, by `METHOD path`: none for a route
 * without a query schema; for the body, only routes whose body schema is an object.
 */
export function declaredParams(routes: readonly RouteInfo[], part: "query" | "body"): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of routes) {
    const properties = (r.hooks?.[part] as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (properties || part === "query") out.set(`${r.method} ${r.path}`, Object.keys(properties ?? {}));
  }
  return out;
}

/** The parameters of a request URL that are neither declared nor always allowed, in order, each once. */
export function unknownParams(url: string, declared: readonly string[]): string[] {
  const q = url.indexOf("?");
  if (q === -1) return [];
  const names = new Set(new URLSearchParams(url.slice(q + 1)).keys());
  return [...names].filter((n) => !declared.includes(n) && !ALWAYS_ALLOWED.includes(n));
}

/** One validation detail per unknown parameter, naming it and the ones the route takes. */
export function unknownParamDetails(unknown: readonly string[], declared: readonly string[]) {
  const known = declared.length ? `known: ${declared.join(", ")}` : "this route takes no query parameters";
  return unknown.map((name) => ({ field: `query.${name}`, message: `unknown parameter (${known})` }));
}

/**
 * What is wrong with a JSON body, as parsed and before validation, against the fields its route
 * declares: not an object (an array would be read as an empty filter), or fields it does not know;
 * one validation detail each. Empty when it is fine, or absent (the schema says whether it may be).
 */
export function bodyFieldDetails(body: unknown, declared: readonly string[]): { field: string; message: string }[] {
  if (body === undefined || body === null) return [];
  if (typeof body !== "object" || Array.isArray(body)) return [{ field: "body", message: "must be a JSON object" }];
  return Object.keys(body)
    .filter((name) => !declared.includes(name))
    .map((name) => ({ field: `body.${name}`, message: `unknown field (known: ${declared.join(", ")})` }));
}
