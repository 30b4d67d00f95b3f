import { t } from "elysia";
import { NextBefore, Nullable, asResponses } from "../http/openapi.ts";

export const healthResponses = asResponses({
  200: {
    description: "The service runs and its database answers (degraded: bots named in bots_down receive and send nothing until they are back)",
    content: {
      "application/json": {
        schema: t.Object({
          status: t.Union([t.Literal("ok"), t.Literal("degraded")]), db: t.Literal("ok"), in_flight: t.Integer({ description: "postback requests in flight" }),
          bots_down: t.Optional(t.Array(t.String())),
        }),
        example: { status: "ok", db: "ok", in_flight: 3 },
      },
    },
  },
  503: {
    description: "The database cannot be read",
    content: { "application/json": { schema: t.Object({ status: t.Literal("error"), db: t.String({ description: "the database's error" }) }), example: { status: "error", db: "disk I/O error" } } },
  },
});

export const metricsResponses = asResponses({
  200: {
    description: "Prometheus text exposition format",
    content: { "text/plain": { schema: t.String(), example: "# HELP tgcpa_in_flight Postback requests in flight.\n# TYPE tgcpa_in_flight gauge\ntgcpa_in_flight 0\n" } },
  },
});

export const JournalList = t.Object({
  items: t.Array(t.Object({
    id: t.Integer(), kind: t.String({ description: "organic_join, organic_join_applied, event_ignored, start_rejected, bot_blocked, …" }),
    campaign: Nullable(t.String()), subscriber: Nullable(t.Integer()), chat: Nullable(t.Integer()), detail: t.Unknown({ description: "what happened, as JSON" }),
    created_at: t.String({ format: "date-time" }),
  })),
  next_before: NextBefore,
});
export const journalExample = {
  items: [{ id: 9, kind: "organic_join", campaign: "spring", subscriber: 555, chat: -1001234567890, detail: { source: "telegram", at: 1714557600000 }, created_at: "2024-05-01T10:00:00.000Z" }],
  next_before: null,
};

export const ReloadAnswer = t.Object({ status: t.Literal("ok"), campaigns: t.Integer(), source: Nullable(t.String({ description: "the config file" })) });
export const reloadExample = { status: "ok", campaigns: 3, source: "/etc/tgcpa/tgcpa.yaml" };
