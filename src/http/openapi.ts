// What every operation declares in the OpenAPI document: its success answer (schema and example)
// and the error envelope for each status it can answer with. Documentation only: answers are not
// validated against these at run time; test/integration/openapi.test.ts checks real answers match.
import { t, type TSchema } from "elysia";
import { Int } from "./schema.ts";

export const ErrorEnvelope = t.Object({
  error: t.Object({
    code: t.String({ description: "stable snake_case code, e.g. validation_failed, unauthorized, not_found" }),
    message: t.String({ description: "what was wrong, naming the field" }),
    details: t.Optional(t.Unknown({ description: "validation_failed: [{field, message}]; invalid_config: [{path, line, message}]" })),
  }),
}, { description: "The error envelope shared by every route except /api/postback" });

export const OPENAPI_DESCRIPTION = `Conversion tracker for Telegram traffic: lead events in, S2S postbacks out.

Management routes (/api/…) take an API key from \`api_keys\`: \`Authorization: Bearer KEY\` or \`?key=KEY\`
(both listed under Authorize), or the dashboard's session cookie. \`GET|POST /api/postback\` takes an inbound key
from \`inbound_keys\` as \`?key=\` instead; \`/telegram/{bot}\` takes the bot's webhook secret;
\`/health\` and \`/metrics\` take nothing. Errors share one envelope \`{error: {code, message, details?}}\`.`;

/** The operations' groups, in the order Swagger UI shows them. */
export const OPENAPI_TAGS = [
  { name: "leads", description: "lead events in, leads out" },
  { name: "postbacks", description: "the outbox: postbacks, their attempts, re-sends" },
  { name: "campaigns", description: "campaigns, their deep links and test postbacks" },
  { name: "inbound", description: "postbacks from other systems (AlterCPA style) and their log" },
  { name: "telegram", description: "the webhook, bots and chats" },
  { name: "destinations", description: "tracker presets" },
  { name: "export", description: "leads and postbacks as CSV or JSON Lines, streamed" },
  { name: "ops", description: "health, metrics, stats, journal, config reload" },
  { name: "session", description: "the dashboard's sign-in" },
  { name: "demo", description: "the example config's stand-in tracker" },
];

/**
 * Where the API is: the configured public URL when there is one, and always the origin that
 * served this document (a relative URL), which is right for a client on the same host or behind
 * the proxy.
 */
export const openapiServers = (publicUrl: string | null | undefined) => [
  ...(publicUrl ? [{ url: publicUrl.replace(/\/+$/, ""), description: "server.public_url" }] : []),
  { url: "/", description: "the origin that served this document" },
];

/** A request body documented by hand, for routes that read their body themselves (no body schema). */
export const requestBody = (description: string, content: Record<string, { schema: unknown; example?: unknown }>) =>
  ({ required: true, description, content }) as never; // what Elysia's detail.requestBody takes

export const SECURITY_SCHEMES = {
  apiKey: { type: "http", scheme: "bearer", description: "An API key from api_keys, as Authorization: Bearer KEY" },
  apiKeyQuery: { type: "apiKey", in: "query", name: "key", description: "The same API key as ?key=KEY (handy for a browser or a tracker; it ends up in access logs)" },
  dashboardSession: { type: "apiKey", in: "cookie", name: "tgcpa_session", description: "The dashboard's session cookie, set by POST /api/session; a POST or DELETE sent with it also needs the header X-Requested-With" },
  inboundKey: { type: "apiKey", in: "query", name: "key", description: "An inbound key from inbound_keys (GET|POST /api/postback only; also accepted in a form or JSON body)" },
  webhookSecret: { type: "apiKey", in: "header", name: "X-Telegram-Bot-Api-Secret-Token", description: "The bot's webhook secret (bots.NAME.secret, or derived from its token); Telegram sends it (POST /telegram/{bot} only)" },
} as const;

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

const ERRORS: Record<ErrorStatus, { description: string; code: string; message: string; details?: unknown }> = {
  400: { description: "The body is not valid JSON", code: "malformed_body", message: "the request body is not valid JSON" },
  401: {
    description: "No valid API key (Authorization: Bearer KEY or ?key=KEY) and no dashboard session",
    code: "unauthorized", message: "a valid API key is required (Authorization: Bearer KEY or ?key=KEY), or a dashboard session",
  },
  403: {
    description: "A change sent with the dashboard's session cookie but without the X-Requested-With header",
    code: "csrf_header_missing", message: "a change made with the dashboard's session cookie needs the header x-requested-with (the dashboard sends it); scripts use an API key",
  },
  404: { description: "No such resource", code: "not_found", message: "lead 42 not found" },
  409: { description: "The postback is still queued", code: "already_pending", message: "postback 42 is already queued" },
  413: { description: "The body is larger than this route takes; refused before it is read", code: "body_too_large", message: "the request body is larger than 1048576 bytes" },
  415: { description: "The body is not of the media type this route takes", code: "unsupported_media_type", message: "an update is sent as application/json" },
  422: {
    description: "A field is missing or invalid (each one named in details)",
    code: "validation_failed", message: "query.limit: must be a whole number from 1 to 500", details: [{ field: "query.limit", message: "must be a whole number from 1 to 500" }],
  },
  429: { description: "Too many requests from this address; see Retry-After", code: "rate_limited", message: "too many requests; slow down" },
  503: { description: "The database is locked by another process or the disk is full; nothing was written, try again", code: "storage_unavailable", message: "storage unavailable (database is locked); nothing was written, try again" },
};

export interface Success {
  schema: TSchema;
  example: unknown;
  description: string;
  /** Default application/json. */
  contentType?: string;
}

/** The `responses` of an operation: its success and the errors it can answer with. */
export function responses(ok: Success, ...errors: (ErrorStatus | [ErrorStatus, { code: string; message: string; description?: string }])[]) {
  const out: Record<string, unknown> = {
    200: { description: ok.description, content: { [ok.contentType ?? "application/json"]: { schema: ok.schema, example: ok.example } } },
  };
  for (const e of errors) {
    const [status, own] = Array.isArray(e) ? e : [e, undefined];
    const base = ERRORS[status];
    const { code, message } = own ?? base;
    const example = { error: { code, message, ...(own || base.details === undefined ? {} : { details: base.details }) } };
    out[status] = { description: own?.description ?? base.description, content: { "application/json": { schema: ErrorEnvelope, example } } };
  }
  return asResponses(out);
}

/** Responses written out by hand (answers outside the envelope: /health, /metrics, /api/postback). */
export const asResponses = (r: Record<string, unknown>) => r as Record<string, never>; // what Elysia's detail.responses takes

/** Paging of list answers: the cursor for the next page, null on the last one. */
export const NextBefore = t.Union([Int(), t.Null()], { description: "pass as `before` for the next page; null on the last page" });

export const Nullable = <T extends TSchema>(schema: T) => t.Union([schema, t.Null()]);
