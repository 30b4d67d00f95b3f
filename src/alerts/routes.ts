import { Elysia, t } from "elysia";
import { NextBefore, Nullable, responses } from "../http/openapi.ts";
import { Int, pageQuery } from "../http/schema.ts";
import { iso } from "../lib/json.ts";
import type { Storage } from "../storage/port.ts";
import type { ActiveAlert } from "./monitor.ts";

export interface AlertRoutesDeps {
  storage: Pick<Storage, "read">;
  alerts: { active(): ActiveAlert[] };
}

const Time = t.String({ format: "date-time" });
const AlertList = t.Object({
  active: t.Array(t.Object({
    key: t.String({ description: "kind:subject, e.g. bot_down:main, host_failing:trk.example.com" }), kind: t.String(), subject: t.String(),
    phase: t.String({ description: "pending: bad, not yet for its threshold (or held by the spacing); firing: sent; recovering: fine again, its recovery not sent yet" }),
    bad_since: Nullable(Time), fired_at: Nullable(Time), detail: Nullable(t.String()),
  }), { description: "alerts whose cause is bad now, or whose recovery is not sent yet (in memory; pending ones are lost at a restart)" }),
  items: t.Array(t.Object({
    id: Int(), key: t.String(), kind: t.String({ description: "bot_down, bot_rights, host_failing, no_starts, storage_unwritable, digest" }), subject: t.String(),
    state: t.String({ description: "firing | recovering | resolved; sent (a digest)" }), bad_since: Time, fired_at: Nullable(Time), resolved_at: Nullable(Time),
    detail: Nullable(t.String({ description: "what it said when it fired (a digest: its text)" })), updated_at: Time,
  }), { description: "incidents and digests sent, newest first" }),
  next_before: NextBefore,
});
const alertListExample = {
  active: [{ key: "host_failing:trk.example.com", kind: "host_failing", subject: "trk.example.com", phase: "firing", bad_since: "2024-05-01T23:41:02.000Z", fired_at: "2024-05-01T23:51:02.000Z", detail: "postbacks to trk.example.com are failing since 2024-05-01 23:41:02 (UTC): 7 attempts failed, none delivered; last: http_503" }],
  items: [{ id: 3, key: "host_failing:trk.example.com", kind: "host_failing", subject: "trk.example.com", state: "firing", bad_since: "2024-05-01T23:41:02.000Z", fired_at: "2024-05-01T23:51:02.000Z", resolved_at: null, detail: "postbacks to trk.example.com are failing since 2024-05-01 23:41:02 (UTC): 7 attempts failed, none delivered; last: http_503", updated_at: "2024-05-01T23:51:02.000Z" }],
  next_before: null,
};

export function alertRoutes(ctx: AlertRoutesDeps) {
  return new Elysia({ detail: { tags: ["ops"] } })
    .get("/api/alerts", async ({ query }) => {
      const limit = query.limit ?? 50;
      const rows = await ctx.storage.read.alerts.list({ beforeId: query.before, limit });
      return {
        active: ctx.alerts.active().map((a) => ({ key: a.key, kind: a.kind, subject: a.subject, phase: a.phase, bad_since: iso(a.badSince), fired_at: iso(a.firedAt), detail: a.detail })),
        items: rows.map((r) => ({
          id: r.id, key: r.key, kind: r.kind, subject: r.subject, state: r.state, bad_since: iso(r.badSince)!, fired_at: iso(r.firedAt),
          resolved_at: iso(r.resolvedAt), detail: r.detail, updated_at: iso(r.updatedAt)!,
        })),
        next_before: rows.length === limit ? rows.at(-1)!.id : null,
      };
    }, {
      query: t.Object({ ...pageQuery }),
      detail: { summary: "Alerts: the ones active now, and their incidents and digests", responses: responses({ schema: AlertList, example: alertListExample, description: "Active alerts and a page of incidents" }, 401, 422) },
    });
}
