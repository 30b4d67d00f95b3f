// One `info` line per HTTP request (log.access): method, route pattern, status, duration and the
// client address as the rate limits see it (behind server.trusted_proxies, the forwarded one).
// Secret query values are replaced before the line is written; bodies and headers are never logged.
import type { Logger } from "../lib/logger.ts";
import { routedPath } from "./auth.ts";
import type { ClientAddress, PeerSource } from "./client-address.ts";

/** Query parameters whose values are secrets: the API or inbound key, and the ad platforms' tokens. */
const SECRET_PARAMS = new Set(["key", "token", "access_token", "api_secret", "oauth_token"]);

/** The path and query of a URL with the values of secret parameters replaced by `[redacted]`. */
export function redactedTarget(url: string): string {
  const path = routedPath(url);
  const q = url.indexOf("?", url.indexOf(path));
  if (q === -1) return path;
  const parts = url.slice(q + 1).split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " ")).toLowerCase();
    } catch {
      name = rawName.toLowerCase(); // a malformed escape: judged as written
    }
    return SECRET_PARAMS.has(name) ? `${rawName}=[redacted]` : pair;
  });
  return `${path}?${parts.join("&")}`;
}

export interface AccessLogDeps {
  log: Logger;
  clientAddress: ClientAddress;
  /** log.access of the running config (a reload turns it on or off). */
  enabled(): boolean;
}

interface Finished {
  request: Request;
  /** The matched route's pattern (`/api/leads/:id`); null when nothing matched or the edge answered first. */
  route: string | null;
  status: number;
}

/**
 * The access log's parts, hooked into the app: `begin` on every request, `answeredEarly` for the
 * edge rules' answers (Elysia runs no later hook for them), `answeredError` for the error
 * handler's (its status is the one sent; Elysia's own guess can differ), and `finished` after
 * every routed response.
 */
export function accessLog(deps: AccessLogDeps) {
  const log = deps.log.child({ component: "access" });
  // Off, or below the logger's level (the bench runs at warn): nothing is measured or written.
  const on = () => deps.enabled() && log.isLevelEnabled("info");
  /** When each request began (performance.now(), ms) and its client, read while the connection is open. */
  const began = new WeakMap<Request, { at: number; client: string | null }>();
  const errorStatus = new WeakMap<Request, number>();
  const write = ({ request, route, status }: Finished) => {
    if (!on()) return;
    const start = began.get(request);
    log.info({
      method: request.method,
      route,
      url: redactedTarget(request.url),
      status,
      // ms, to a tenth: a cached answer takes well under one
      duration_ms: start === undefined ? null : Math.round((performance.now() - start.at) * 10) / 10,
      client: start?.client ?? null,
    }, "request");
  };
  return {
    begin(request: Request, server: PeerSource) {
      if (on()) began.set(request, { at: performance.now(), client: deps.clientAddress(request, server) });
    },
    answeredEarly(request: Request, response: Response | undefined) {
      if (response) write({ request, route: null, status: response.status });
      return response;
    },
    answeredError(request: Request, response: Response) {
      errorStatus.set(request, response.status);
      return response;
    },
    finished(ctx: { request: Request; route?: string; set: { status?: number | string }; responseValue?: unknown; code?: unknown }) {
      const status = errorStatus.get(ctx.request)
        ?? (ctx.responseValue instanceof Response ? ctx.responseValue.status : undefined)
        ?? (ctx.code === "NOT_FOUND" ? 404 : typeof ctx.set.status === "number" ? ctx.set.status : 200);
      write({ request: ctx.request, route: ctx.route || null, status });
    },
  };
}
