import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { campaignRoutes } from "./campaigns/routes.ts";
import type { AppContext } from "./context.ts";
import { inboundRoutes } from "./inbound/routes.ts";
import { leadRoutes } from "./leads/routes.ts";
import { AppError, isStorageUnavailable } from "./lib/errors.ts";
import { keyMatches } from "./lib/keys.ts";
import { VERSION } from "./lib/version.ts";
import { declaredLength } from "./http/body.ts";
import { CSRF_HEADER, sessionToken, validSession } from "./dashboard/session.ts";
import { clientAddressResolver } from "./http/client-address.ts";
import { RateLimiter } from "./http/rate-limit.ts";
import { ILL_FORMED, illFormedField } from "./http/unicode.ts";
import { declaredQueryParams, unknownParamDetails, unknownParams } from "./http/unknown-params.ts";
import { demoTrackerRoutes } from "./ops/demo-tracker.ts";
import { opsRoutes } from "./ops/routes.ts";
import { postbackRoutes } from "./postbacks/routes.ts";
import { presetRoutes } from "./presets/routes.ts";
import { pageRoutes, sessionRoutes } from "./dashboard/routes.ts";
import { OPENAPI_DESCRIPTION, SECURITY_SCHEMES } from "./http/openapi.ts";
import { statsRoutes } from "./stats/routes.ts";
import { telegramRoutes } from "./telegram/routes.ts";

const errorBody = (status: number, code: string, message: string, details?: unknown) =>
  new Response(JSON.stringify({ error: { code, message, ...(details === undefined ? {} : { details }) } }), {
    status,
    headers: { "content-type": "application/json" },
  });

/** One entry per field: the schema's own `error` text where it has one, else TypeBox's message. */
function validationDetails(where: string, issues: readonly unknown[]) {
  const byField = new Map<string, string>();
  for (const issue of issues as { path?: string; message?: string; schema?: { error?: unknown; title?: string } }[]) {
    // A title with a dot names the whole field (path params, which Elysia reports without a path).
    const title = issue.schema?.title;
    const path = issue.path || (title && !title.includes(".") ? `/${title}` : "");
    const field = title?.includes(".") && !issue.path ? title : `${where === "property" ? "query" : where}${path.replace(/\//g, ".")}`;
    if (byField.has(field)) continue;
    const own = issue.schema?.error;
    byField.set(field, typeof own === "string" ? own : (issue.message ?? "is invalid").replace(/^Expected/, "expected"));
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

/** Inbound postbacks carry a few short parameters; 64 KiB is generous. */
const MAX_INBOUND_BODY_BYTES = 64 * 1024;

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

const needsApiKey = (method: string, path: string) => path.startsWith("/api/") && !PUBLIC_API.has(`${method} ${path}`);

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Builds the whole HTTP app from its dependencies; main.ts listens, tests call app.handle. */
export function buildApp(ctx: AppContext) {
  // Checked twice per request (on the routed path, then on the matched route): the verdict is kept.
  const verdicts = new WeakMap<Request, "key" | "session" | null>();
  /** How the request is authenticated: an API key, else a dashboard session cookie. A key given and wrong is refused, cookie or not. */
  const access = (request: Request) => {
    let verdict = verdicts.get(request);
    if (verdict !== undefined) return verdict;
    const keys = ctx.runtime().config.api_keys;
    const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
    const query = request.url.indexOf("?");
    const key = bearer ?? (query === -1 ? null : new URLSearchParams(request.url.slice(query + 1)).get("key"));
    if (key !== null) verdict = keyMatches(key, keys) ? "key" : null;
    else {
      const token = sessionToken(request.headers.get("cookie"));
      verdict = token && validSession(ctx.db, token, keys, ctx.clock.now()) ? "session" : null;
    }
    verdicts.set(request, verdict);
    return verdict;
  };
  const unauthorized = () => errorBody(401, "unauthorized", "a valid API key is required (Authorization: Bearer KEY or ?key=KEY), or a dashboard session");
  /** The refusal for a management call without valid credentials, or a cookie-borne change without the CSRF header. */
  const refusal = (request: Request, path: string) => {
    if (!needsApiKey(request.method, path)) return undefined;
    const verdict = access(request);
    if (!verdict) return unauthorized();
    if (verdict === "session" && !SAFE_METHODS.has(request.method) && !request.headers.get(CSRF_HEADER)) {
      return errorBody(403, "csrf_header_missing", `a change made with the dashboard's session cookie needs the header ${CSRF_HEADER} (the dashboard sends it); scripts use an API key`);
    }
    return undefined;
  };
  const log = ctx.log.child({ component: "http" });
  /** Query parameters each route declares (filled once every route is registered, below). */
  let queryParams = new Map<string, string[]>();
  // Built once; a reload that changes the limits takes effect after a restart.
  const limits = ctx.runtime().config.rate_limits;
  const inboundLimit = new RateLimiter(limits.inbound_per_minute);
  const webhookLimit = new RateLimiter(limits.webhook_per_minute);
  const clientAddress = clientAddressResolver(ctx.runtime().config.server.trusted_proxies); // server.* needs a restart
  const app = new Elysia()
    .onRequest(({ request, server }) => {
      const path = routedPath(request.url);
      const limiter = path === "/api/postback" ? inboundLimit : path.startsWith("/telegram/") ? webhookLimit : null;
      if (limiter) {
        const wait = limiter.take(clientAddress(request, server) ?? "unknown", Date.now());
        if (wait > 0) {
          const retryAfter = String(Math.ceil(wait / 1000));
          const body = path === "/api/postback"
            ? { status: "error", error: "rate-limit", message: "too many requests; slow down" }
            : { error: { code: "rate_limited", message: "too many requests; slow down" } };
          return new Response(JSON.stringify(body), { status: 429, headers: { "content-type": "application/json", "retry-after": retryAfter } });
        }
      }
      const refused = refusal(request, path);
      if (refused) return refused;
      // An inbound postback is a handful of parameters: a large one is refused before it is read.
      if (path === "/api/postback" && declaredLength(request) > MAX_INBOUND_BODY_BYTES) {
        return new Response(JSON.stringify({ status: "error", error: "bad-request", message: `the request body is larger than ${MAX_INBOUND_BODY_BYTES} bytes` }), { status: 413, headers: { "content-type": "application/json" } });
      }
    })
    // Second line of defence, on the route Elysia actually matched.
    .onBeforeHandle({ as: "global" }, ({ request, route, query, body }) => {
      const refused = refusal(request, route);
      if (refused) return refused;
      if (needsApiKey(request.method, route)) {
        const known = queryParams.get(`${request.method} ${route}`);
        const unknown = known ? unknownParams(request.url, known) : [];
        if (unknown.length) {
          const details = unknownParamDetails(unknown, known!);
          return errorBody(422, "validation_failed", `${details[0]!.field}: ${details[0]!.message}`, details);
        }
      }
      // Text that is not well-formed UTF-16 is refused at the edge, naming the field (the webhook's
      // updates are Telegram's own and handled by the telegram feature).
      if (route.startsWith("/telegram/")) return;
      const field = illFormedField(query, "query") ?? illFormedField(body, "body");
      if (field === null) return;
      if (route === "/api/postback") {
        return new Response(JSON.stringify({ status: "error", error: "bad-request", message: `${field.replace(/^(query|body)\./, "")}: ${ILL_FORMED}` }), { status: 400, headers: { "content-type": "application/json" } });
      }
      return errorBody(422, "validation_failed", `${field}: ${ILL_FORMED}`, [{ field, message: ILL_FORMED }]);
    })
    // A reader may have seen rows committed but not yet fsynced (group commit syncs off the event
    // loop): answer once they are on the disk, so nothing shown can be lost by a power cut.
    .onAfterHandle({ as: "global" }, async ({ request }) => {
      if (request.method === "GET") await ctx.commits.durable();
    })
    .onError(({ code, error, request }) => {
      if (error instanceof AppError) return errorBody(error.status, error.code, error.message, error.details);
      if (code === "VALIDATION") {
        const details = validationDetails(error.type, error.all);
        const first = details[0];
        return errorBody(422, "validation_failed", first ? `${first.field}: ${first.message}` : "invalid request", details);
      }
      if (code === "PARSE") {
        if (routedPath(request.url) === "/api/postback") {
          return new Response(JSON.stringify({ status: "error", error: "bad-request", message: "the request body cannot be parsed" }), { status: 400, headers: { "content-type": "application/json" } });
        }
        return errorBody(400, "malformed_body", "the request body is not valid JSON");
      }
      if (code === "NOT_FOUND") return errorBody(404, "not_found", "no such route");
      if (code === "INVALID_COOKIE_SIGNATURE") return errorBody(400, "bad_request", "invalid cookie");
      const status = typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 500;
      if (status < 500) return errorBody(status, "bad_request", (error as Error).message ?? "bad request");
      if (isStorageUnavailable(error)) {
        ctx.commits.noteStorageFailure(error); // a route that writes on its own: /health says so too
        log.error({ code: (error as { code: string }).code, message: (error as Error).message, db: ctx.runtime().config.storage.path }, "storage unavailable");
        return new Response(JSON.stringify({ error: { code: "storage_unavailable", message: `storage unavailable (${(error as Error).message}); nothing was written, try again` } }), {
          status: 503,
          headers: { "content-type": "application/json", "retry-after": "5" },
        });
      }
      log.error({ err: error }, "unhandled error");
      return errorBody(500, "internal", "internal error");
    })
    .use(openapi({
      path: "/swagger",
      provider: null, // the page is served by pageRoutes from the pinned swagger-ui-dist, embedded
      documentation: {
        info: { title: "tgcpa", version: VERSION, description: OPENAPI_DESCRIPTION },
        components: { securitySchemes: SECURITY_SCHEMES },
        // Any one of them: the API key as a Bearer token or as ?key=, or a dashboard session cookie.
        security: [{ apiKey: [] }, { apiKeyQuery: [] }, { dashboardSession: [] }],
      },
    }))
    .use(pageRoutes())
    .use(sessionRoutes(ctx))
    .use(opsRoutes(ctx))
    .use(statsRoutes(ctx))
    .use(leadRoutes(ctx))
    .use(postbackRoutes(ctx))
    .use(campaignRoutes(ctx))
    .use(inboundRoutes(ctx, clientAddress))
    .use(presetRoutes())
    .use(telegramRoutes(ctx));
  const built = ctx.runtime().config.demo_tracker ? app.use(demoTrackerRoutes(ctx.log.child({ component: "demo-tracker" }))) : app;
  queryParams = declaredQueryParams(built.routes);
  return built;
}
