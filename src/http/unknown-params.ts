/**
 * Unknown query parameters are refused, not ignored: a typo such as `?statu=approve` would
 * otherwise list every row, and a filter put in the query of `POST /api/postbacks/retry` would
 * re-send everything. Each route's known parameters are read from its own query schema (the one
 * the OpenAPI document shows), so the check never disagrees with the documentation.
 */

/** The API key may travel in the query of every management route. */
const ALWAYS_ALLOWED = ["key"];

interface RouteInfo {
  method: string;
  path: string;
  hooks?: { query?: unknown };
}

/** The query parameters each route declares, by `METHOD path` (none for a route without a query schema). */
export function declaredQueryParams(routes: readonly RouteInfo[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of routes) {
    const properties = (r.hooks?.query as { properties?: Record<string, unknown> } | undefined)?.properties;
    out.set(`${r.method} ${r.path}`, Object.keys(properties ?? {}));
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
