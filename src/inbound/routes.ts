import { Elysia, t } from "elysia";
import type { ClientAddress, PeerSource } from "../http/client-address.ts";
import { RateLimiter } from "../http/rate-limit.ts";
import { pageQuery, queryString } from "../http/schema.ts";
import { keyMatches } from "../lib/keys.ts";
import type { Metrics } from "../lib/metrics.ts";
import { iso } from "../lib/json.ts";
import { requestBody, responses } from "../http/openapi.ts";
import { InboundLog, inboundLogExample, inboundResponses } from "./model.ts";
import { handleInbound, type InboundDeps } from "./service.ts";

const asStrings = (o: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(o && typeof o === "object" ? o : {}).filter(([, v]) => v != null && typeof v !== "object").map(([k, v]) => [k, String(v)]));

const DESCRIPTION = `Inbound postback (AlterCPA style): \`key\` (inbound key), \`lead\` or \`click\` (+ \`campaign\`), \`status\`
(recognised automatically; \`stn sth sta stc stt\` add words for wait/hold/approve/cancel/trash), optional \`payout\`, \`currency\`.
Parameters may come in the query or in a form/JSON body. Answers \`{status: "ok", lead, changed}\` or
\`{status: "error", error}\` with error one of access, no-click, bad-click, bad-status, no-changes, db.`;

/**
 * Requests without a valid key from all addresses together may reach this many times the
 * per-address limit a minute (600 at the default 30): many addresses together cannot make the
 * log grow faster than that either.
 */
const BAD_KEY_ALL_ADDRESSES_FACTOR = 20;

const param = (name: string, description: string, example?: string) => ({ name, in: "query", required: false, schema: { type: "string" }, description, ...(example ? { example } : {}) });

// Documented by hand: the handler reads them from the query or a form/JSON body, without a schema
// (AlterCPA senders add parameters of their own, which must not be refused).
const INBOUND_PARAMETERS = [
  param("lead", "the lead's id (or give click)"),
  param("click", "the tracker's click id of the lead", "abc123"),
  param("campaign", "campaign code, to pick the lead of a click in one campaign"),
  param("status", "status word, recognised automatically (new/lead → wait, approved/sale → approve, rejected → cancel, fraud → trash, …)", "approved"),
  param("payout", "payout of this event ({payout} of the outbound postbacks)"),
  param("currency", "currency of the payout"),
  ...["stn", "sth", "sta", "stc", "stt"].map((n, i) => param(n, `extra words (comma-separated) meaning ${["wait", "hold", "approve", "cancel", "trash"][i]}`)),
] as never[];

/** The same parameters as a form or JSON body (POST); the query's are merged with them. */
const inboundBodySchema = {
  type: "object",
  additionalProperties: { type: "string" },
  properties: Object.fromEntries([{ name: "key", description: "the inbound key" }, ...(INBOUND_PARAMETERS as unknown as { name: string; description: string }[])]
    .map((p) => [p.name, { type: "string", description: p.description }])),
};
const INBOUND_BODY = requestBody("The parameters, as a form or a JSON object (any of them may be in the query instead)", {
  "application/x-www-form-urlencoded": { schema: inboundBodySchema, example: { key: "INBOUND_KEY", click: "abc123", status: "approved" } },
  "application/json": { schema: inboundBodySchema, example: { key: "INBOUND_KEY", click: "abc123", status: "approved" } },
});

export function inboundRoutes(ctx: InboundDeps & { metrics: Metrics }, clientAddress: ClientAddress) {
  // A request without a valid key is answered from these limits before anything is done or logged
  // (built once, like the other limits: a reload that changes them takes effect after a restart).
  const perAddress = ctx.runtime().config.rate_limits.inbound_bad_key_per_minute;
  const badKeyPerAddress = new RateLimiter(perAddress);
  const badKeyAll = new RateLimiter(perAddress * BAD_KEY_ALL_ADDRESSES_FACTOR);
  const handle = async ({ query, body, request, server, set }: { query: unknown; body: unknown; request: Request; server: PeerSource; set: { status?: number | string; headers: Record<string, string | number> } }) => {
    const params = { ...asStrings(query), ...asStrings(body) };
    const ip = clientAddress(request, server);
    if (!keyMatches(params.key, ctx.runtime().config.inbound_keys)) {
      const now = Date.now();
      // The shared budget is spent only by requests their own address's limit lets through.
      const wait = badKeyPerAddress.take(ip ?? "unknown", now) || badKeyAll.take("*", now);
      // A request without any key is no guess, but is limited and logged the same.
      if (params.key !== undefined) ctx.metrics.recordAuthFailure("inbound", wait > 0 ? "limited" : "refused");
      if (wait > 0) {
        set.status = 429;
        set.headers["retry-after"] = String(Math.ceil(wait / 1000));
        return { status: "error", error: "rate-limit", message: "too many requests without a valid key; slow down" };
      }
    }
    const answer = await handleInbound(ctx, params, ip);
    set.status = answer.httpStatus;
    return answer.body;
  };
  return new Elysia({ detail: { tags: ["inbound"] } })
    .get("/api/postback", handle, { detail: { summary: "Inbound postback", description: DESCRIPTION, security: [{ inboundKey: [] }], parameters: INBOUND_PARAMETERS, responses: inboundResponses } })
    .post("/api/postback", handle, { detail: { summary: "Inbound postback", description: DESCRIPTION, security: [{ inboundKey: [] }], parameters: INBOUND_PARAMETERS, requestBody: INBOUND_BODY, responses: inboundResponses } })
    .get("/api/postback-log", async ({ query }) => {
      const limit = query.limit ?? 50;
      const rows = await ctx.storage.read.inbound.list({ result: query.result, beforeId: query.before, limit });
      return {
        items: rows.map((r) => ({ id: r.id, result: r.result, lead: r.leadId, status: r.status, params: r.params, ip: r.ip, created_at: iso(r.createdAt) })),
        next_before: rows.length === limit ? rows.at(-1)!.id : null,
      };
    }, {
      query: t.Object({ result: queryString("result", "ok, no-changes, access, no-click, bad-click, bad-status, db"), ...pageQuery }),
      detail: { summary: "Inbound postbacks received, newest first", responses: responses({ schema: InboundLog, example: inboundLogExample, description: "A page of the inbound log" }, 401, 422) },
    });
}
