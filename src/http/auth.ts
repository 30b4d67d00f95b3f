import { keyMatches } from "../lib/keys.ts";

/**
 * Calls under /api that authenticate themselves: inbound postbacks take an inbound key, the
 * dashboard sign-in takes the API key in its body, the sign-out only ends the cookie's session.
 */
const PUBLIC_API = new Set(["GET /api/postback", "POST /api/postback", "POST /api/session", "DELETE /api/session"]);

/**
 * The path exactly as Elysia routes it (it cuts the URL at the first "/" after index 11 and does not
 * parse the host), so checks on the path can never disagree with the router — not even for an odd
 * or very short Host header.
 */
export function routedPath(url: string): string {
  const start = url.indexOf("/", 11);
  if (start === -1) return "/";
  const query = url.indexOf("?", start + 1);
  return query === -1 ? url.substring(start) : url.substring(start, query);
}

/** Every call under /api needs the API key (or a dashboard session), but those that authenticate themselves. */
export const needsApiKey = (method: string, path: string) => path.startsWith("/api/") && !PUBLIC_API.has(`${method} ${path}`);

/** The API key a request presents (Bearer first, else ?key=) and how; null when it presents none. */
export function presentedKey(request: Request): { key: string; via: "bearer" | "query" } | null {
  const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  if (bearer !== undefined) return { key: bearer, via: "bearer" };
  const query = request.url.indexOf("?");
  const key = query === -1 ? null : new URLSearchParams(request.url.slice(query + 1)).get("key");
  return key === null ? null : { key, via: "query" };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export type Access = "key" | "session" | null;

export interface AccessDeps {
  apiKeys(): readonly string[];
  /** Whether the request carries a valid dashboard session (its cookie), for the keys in force. */
  hasSession(request: Request, keys: readonly string[]): Promise<boolean>;
  /** The header a change made with the session cookie must carry (CSRF). */
  csrfHeader: string;
  /** Whether GET /metrics needs the API key too (server.metrics_public: false). */
  metricsNeedKey(): boolean;
}

export type Refusal = { status: 401 | 403; code: string; message: string };

/**
 * The management API's access rule: an API key (Bearer or ?key=), else a dashboard session; a
 * key given and wrong is refused, cookie or not; a change made with the cookie needs the CSRF
 * header. Checked twice per request (on the routed path, then on the matched route): the
 * verdict is kept per request.
 */
export function accessCheck(deps: AccessDeps): (request: Request, path: string) => Promise<Refusal | undefined> {
  const verdicts = new WeakMap<Request, Access>();
  const access = async (request: Request): Promise<Access> => {
    let verdict = verdicts.get(request);
    if (verdict !== undefined) return verdict;
    const keys = deps.apiKeys();
    const key = presentedKey(request)?.key ?? null;
    if (key !== null) verdict = keyMatches(key, keys) ? "key" : null;
    else verdict = (await deps.hasSession(request, keys)) ? "session" : null;
    verdicts.set(request, verdict);
    return verdict;
  };
  return async (request, path) => {
    if (!needsApiKey(request.method, path) && !(path === "/metrics" && deps.metricsNeedKey())) return undefined;
    const verdict = await access(request);
    if (!verdict) return { status: 401, code: "unauthorized", message: "a valid API key is required (Authorization: Bearer KEY or ?key=KEY), or a dashboard session" };
    if (verdict === "session" && !SAFE_METHODS.has(request.method) && !request.headers.get(deps.csrfHeader)) {
      return { status: 403, code: "csrf_header_missing", message: `a change made with the dashboard's session cookie needs the header ${deps.csrfHeader} (the dashboard sends it); scripts use an API key` };
    }
    return undefined;
  };
}
