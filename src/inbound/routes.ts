import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import type { ClientAddress, PeerSource } from "../http/client-address.ts";
import { pageQuery, queryString } from "../http/schema.ts";
import { iso } from "../lib/json.ts";
import { listInbound } from "./repository.ts";
import { handleInbound } from "./service.ts";

const asStrings = (o: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(o && typeof o === "object" ? o : {}).filter(([, v]) => v != null && typeof v !== "object").map(([k, v]) => [k, String(v)]));

const DESCRIPTION = `Inbound postback (AlterCPA style): \`key\` (inbound key), \`lead\` or \`click\` (+ \`campaign\`), \`status\`
(recognised automatically; \`stn sth sta stc stt\` add words for wait/hold/approve/cancel/trash), optional \`payout\`, \`currency\`.
Parameters may come in the query or in a form/JSON body. Answers \`{status: "ok", lead, changed}\` or
\`{status: "error", error}\` with error one of access, no-click, bad-click, bad-status, no-changes, db.`;

export function inboundRoutes(ctx: AppContext, clientAddress: ClientAddress) {
  const handle = async ({ query, body, request, server, set }: { query: unknown; body: unknown; request: Request; server: PeerSource; set: { status?: number | string } }) => {
    const answer = await handleInbound(ctx, { ...asStrings(query), ...asStrings(body) }, clientAddress(request, server));
    set.status = answer.httpStatus;
    return answer.body;
  };
  return new Elysia({ detail: { tags: ["inbound"] } })
    .get("/api/postback", handle, { detail: { summary: "Inbound postback", description: DESCRIPTION, security: [] } })
    .post("/api/postback", handle, { detail: { summary: "Inbound postback", description: DESCRIPTION, security: [] } })
    .get("/api/postback-log", ({ query }) => {
      const limit = query.limit ?? 50;
      const rows = listInbound(ctx.db, { result: query.result, beforeId: query.before, limit });
      return {
        items: rows.map((r) => ({ id: r.id, result: r.result, lead: r.leadId, status: r.status, params: r.params, ip: r.ip, created_at: iso(r.createdAt) })),
        next_before: rows.length === limit ? rows.at(-1)!.id : null,
      };
    }, {
      query: t.Object({ result: queryString("result", "ok, no-changes, access, no-click, bad-click, bad-status, db"), ...pageQuery }),
      detail: { summary: "Inbound postbacks received, newest first" },
    });
}
