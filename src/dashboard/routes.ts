import { Elysia, t } from "elysia";
import type { Config } from "../config/model.ts";
import type { Storage } from "../storage/port.ts";
import type { Clock } from "../lib/clock.ts";
import type { CameOverHttps, ClientAddress, PeerSource } from "../http/client-address.ts";
import type { KeyFailureLimit } from "../http/key-failures.ts";
import type { Metrics } from "../lib/metrics.ts";
import { AppError, notFound } from "../lib/errors.ts";
import { iso } from "../lib/json.ts";
import { keyMatches } from "../lib/keys.ts";
import { DASHBOARD_ASSETS, DASHBOARD_PAGE, SWAGGER_ASSETS, SWAGGER_PAGE, type Asset } from "./assets.ts";
import { SessionAnswer, SignInBody, SignedOutAnswer, sessionExample } from "./model.ts";
import { responses } from "../http/openapi.ts";
import {
  CSRF_HEADER, clearedSessionCookie, closeSession, newSession, openSession, sessionCookie, sessionToken, validSession,
} from "./session.ts";

// The pages load nothing from anywhere but this service; the browser enforces it.
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

const serve = (asset: Asset, cache = "no-cache") =>
  new Response(Bun.file(asset.path), { headers: { ...PAGE_HEADERS, "content-type": asset.type, "cache-control": cache } });

const HIDDEN = { detail: { hide: true } };

/** The dashboard (/, /dashboard), Swagger UI (/swagger) and their files, all embedded in the binary. */
export function pageRoutes() {
  const asset = (assets: Record<string, Asset>, cache?: string) => ({ params }: { params: { file: string } }) => {
    const a = Object.hasOwn(assets, params.file) ? assets[params.file] : undefined;
    if (!a) throw notFound("file", params.file);
    return serve(a, cache);
  };
  return new Elysia()
    .get("/", () => serve(DASHBOARD_PAGE), HIDDEN)
    .get("/dashboard", () => serve(DASHBOARD_PAGE), HIDDEN)
    .get("/dashboard/assets/:file", asset(DASHBOARD_ASSETS), HIDDEN)
    .get("/swagger", () => serve(SWAGGER_PAGE), HIDDEN)
    // swagger-ui-dist is pinned: its files change only with an upgrade of the service.
    .get("/swagger/assets/:file", asset(SWAGGER_ASSETS, "max-age=3600"), HIDDEN);
}

export interface SessionDeps {
  storage: Pick<Storage, "read" | "write">;
  clock: Clock;
  metrics: Metrics;
  /** The running config (API keys, session lifetime, whether the public URL is https). */
  config(): Config;
}

/** Where a sign-in comes from: its client (for the key-failure limit) and whether it came over https (the cookie's Secure). */
export interface SignInOrigin {
  clientAddress: ClientAddress;
  cameOverHttps: CameOverHttps;
  keyFailures: KeyFailureLimit;
}

/** Sign-in and sign-out of the dashboard; the session cookie then stands in for the API key on /api. */
export function sessionRoutes(ctx: SessionDeps, origin: SignInOrigin) {
  // Secure whenever the browser reached us over https (directly or through a trusted proxy), and
  // always when the public URL is https.
  const secure = (request: Request, server: PeerSource) =>
    origin.cameOverHttps(request, server) || (ctx.config().server.public_url?.startsWith("https://") ?? false);
  return new Elysia({ detail: { tags: ["session"] } })
    .post("/api/session", async ({ body, request, server, set }) => {
      // Per client, as the other limits count (behind a trusted proxy: the forwarded address), and
      // in the same buckets as keys presented to the API: a wrong key costs a slot, a right one nothing.
      const client = origin.clientAddress(request, server) ?? "unknown";
      const wait = origin.keyFailures.wait(client, Date.now());
      if (wait > 0) {
        ctx.metrics.recordAuthFailure("sign_in", "limited");
        set.headers["retry-after"] = String(Math.ceil(wait / 1000));
        throw new AppError(429, "rate_limited", "too many wrong keys from this address; wait a minute");
      }
      const config = ctx.config();
      if (!keyMatches(body.key, config.api_keys)) {
        origin.keyFailures.failed(client, Date.now());
        ctx.metrics.recordAuthFailure("sign_in", "refused");
        throw new AppError(401, "unauthorized", "wrong API key");
      }
      origin.keyFailures.succeeded(client, Date.now());
      const ttl = config.dashboard.session_ttl_ms;
      const session = newSession(body.key, ctx.clock.now(), ttl);
      await ctx.storage.write((tx) => openSession(tx, session));
      set.headers["set-cookie"] = sessionCookie(session.token, { secure: secure(request, server), maxAgeSeconds: Math.floor(ttl / 1000) });
      return { authenticated_by: "session" as const, expires_at: iso(session.row.expiresAt)!, timezone: config.dashboard.timezone, click_groups: config.dashboard.click_groups };
    }, {
      body: SignInBody,
      detail: {
        summary: "Sign in to the dashboard",
        description: `Checks an API key and sets the session cookie (HttpOnly, SameSite=Strict, Secure when the request came over https — directly or from a trusted proxy's X-Forwarded-Proto — or server.public_url is https), valid for dashboard.session_ttl. The cookie is then accepted instead of the API key on every /api route; a POST or DELETE sent with it must also carry the header \`${CSRF_HEADER}\`. The session ends at sign-out, at expiry, or when its key is removed from the config. A wrong key counts toward rate_limits.api_key_failures_per_minute of its address (429 past it), with the keys presented to the API.`,
        security: [],
        responses: responses({ schema: SessionAnswer, example: sessionExample, description: "Signed in; the Set-Cookie header carries the session" }, 401, 422, 429, 503),
      },
    })
    .get("/api/session", async ({ request }) => {
      const config = ctx.config();
      const token = sessionToken(request.headers.get("cookie"));
      const bearer = request.headers.get("authorization") !== null || new URL(request.url).searchParams.has("key");
      const session = !bearer && token ? await validSession(ctx.storage.read, token, config.api_keys, ctx.clock.now()) : null;
      return {
        authenticated_by: session ? ("session" as const) : ("api_key" as const), expires_at: session ? iso(session.expiresAt) : null,
        timezone: config.dashboard.timezone, click_groups: config.dashboard.click_groups,
      };
    }, {
      detail: {
        summary: "Who is asking: an API key or a dashboard session (and when it expires), and the default time zone",
        responses: responses({ schema: SessionAnswer, example: sessionExample, description: "The credentials of this request are valid" }, 401),
      },
    })
    .delete("/api/session", async ({ request, server, set }) => {
      if (!request.headers.get(CSRF_HEADER)) throw new AppError(403, "csrf_header_missing", `sign-out needs the header ${CSRF_HEADER}`);
      const token = sessionToken(request.headers.get("cookie"));
      if (token) await ctx.storage.write(async (tx) => closeSession(tx, token));
      set.headers["set-cookie"] = clearedSessionCookie(secure(request, server));
      return { signed_out: true as const };
    }, {
      detail: {
        summary: "Sign out of the dashboard",
        description: `Ends the session of the cookie (if any) and clears the cookie. Needs the header \`${CSRF_HEADER}\`.`,
        security: [],
        responses: responses({ schema: SignedOutAnswer, example: { signed_out: true }, description: "Signed out; the cookie is cleared" }, [403, { code: "csrf_header_missing", message: "sign-out needs the header x-requested-with" }], 503),
      },
    });
}
