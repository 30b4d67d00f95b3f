import { t } from "elysia";
import { Int } from "../http/schema.ts";
import { NextBefore, Nullable, asResponses } from "../http/openapi.ts";

const Ok = t.Object({ status: t.Literal("ok"), lead: Int(), changed: t.Literal(true) });
const Err = t.Object({
  status: t.Literal("error"),
  error: t.String({ description: "access | no-click | bad-click | bad-status | no-changes | db | rate-limit | bad-request" }),
  lead: t.Optional(Int()),
  message: t.String(),
});
const json = (schema: unknown, example: unknown) => ({ "application/json": { schema, example } });
const err = (error: string, message: string, extra: Record<string, unknown> = {}) => json(Err, { status: "error", error, message, ...extra });

/** AlterCPA-style answers: not the error envelope of the other routes. */
export const inboundResponses = asResponses({
  200: {
    description: "The lead changed; or `no-changes` (already in that status, or a change tgcpa does not make), which is not an error for the caller",
    content: json(t.Union([Ok, Err]), { status: "ok", lead: 42, changed: true }),
  },
  400: { description: "`no-click` (neither lead nor click given), `bad-status` (a status word not recognised) or `bad-request` (a body that cannot be parsed)", content: err("no-click", "give lead or click") },
  403: { description: "`access`: no inbound key or a wrong one", content: err("access", "wrong or missing key") },
  404: { description: "`bad-click`: no lead with that id or click", content: err("bad-click", "no lead with that click") },
  429: { description: "`rate-limit`: too many requests from this address (rate_limits.inbound_per_minute); see Retry-After", content: err("rate-limit", "too many requests; slow down") },
  503: { description: "`db`: storage trouble; nothing was written, send it again", content: err("db", "storage unavailable; try again") },
});

export const InboundLog = t.Object({
  items: t.Array(t.Object({
    id: Int(), result: t.String({ description: "ok | no-changes | access | no-click | bad-click | bad-status | db" }), lead: Nullable(Int()),
    status: Nullable(t.String()), params: t.Record(t.String(), t.String(), { description: "the request's parameters, the key removed" }), ip: Nullable(t.String()),
    created_at: t.String({ format: "date-time" }),
  })),
  next_before: NextBefore,
});
export const inboundLogExample = {
  items: [{ id: 5, result: "ok", lead: 42, status: "approve", params: { click: "abc123", status: "sale", payout: "12" }, ip: "203.0.113.7", created_at: "2024-05-01T10:00:00.000Z" }],
  next_before: null,
};
