import { t } from "elysia";
import { Int } from "../http/schema.ts";
import { ErrorEnvelope, NextBefore, Nullable, asResponses } from "../http/openapi.ts";

const Storage = {
  storage: t.Union([t.Literal("writable"), t.Literal("unwritable")], { description: "whether the last write (or a probe) was taken" }),
  storage_error: t.Optional(t.String({ description: "the storage error while unwritable" })),
  storage_unwritable_since: t.Optional(t.Union([t.String({ format: "date-time" }), t.Null()])),
};

export const healthResponses = asResponses({
  200: {
    description: "The service runs and its database answers and takes writes (degraded: bots named in bots_down receive and send nothing until they are back)",
    content: {
      "application/json": {
        schema: t.Object({
          status: t.Union([t.Literal("ok"), t.Literal("degraded")]), db: t.Literal("ok"), ...Storage,
          in_flight: Int({ description: "postback requests in flight" }),
          bots_down: t.Optional(t.Array(t.String())),
        }),
        example: { status: "ok", db: "ok", storage: "writable", in_flight: 3 },
      },
    },
  },
  503: {
    description: "The database cannot be read, or cannot be written (disk full, I/O error, locked by another process)",
    content: {
      "application/json": {
        schema: t.Object({
          status: t.Literal("error"), db: t.String({ description: "ok, or the database's error" }), ...Storage,
          in_flight: t.Optional(Int()), bots_down: t.Optional(t.Array(t.String())),
        }),
        example: { status: "error", db: "ok", storage: "unwritable", storage_error: "SQLITE_FULL: database or disk is full", storage_unwritable_since: "2024-05-01T10:00:00.000Z", in_flight: 0 },
      },
    },
  },
});

export const metricsResponses = asResponses({
  200: {
    description: "Prometheus text exposition format",
    content: { "text/plain": { schema: t.String(), example: "# HELP tgcpa_in_flight Postback requests in flight.\n# TYPE tgcpa_in_flight gauge\ntgcpa_in_flight 0\n" } },
  },
  401: {
    description: "server.metrics_public is false and no valid API key was sent (Authorization: Bearer KEY or ?key=KEY)",
    content: { "application/json": { schema: ErrorEnvelope, example: { error: { code: "unauthorized", message: "a valid API key is required (Authorization: Bearer KEY or ?key=KEY), or a dashboard session" } } } },
  },
});

export const JournalList = t.Object({
  items: t.Array(t.Object({
    id: Int(), kind: t.String({ description: "organic_join, organic_join_applied, event_ignored, start_rejected, bot_blocked, …" }),
    campaign: Nullable(t.String()), subscriber: Nullable(Int()), chat: Nullable(Int()), detail: t.Unknown({ description: "what happened, as JSON" }),
    created_at: t.String({ format: "date-time" }),
  })),
  next_before: NextBefore,
});
export const journalExample = {
  items: [{ id: 9, kind: "organic_join", campaign: "spring", subscriber: 555, chat: -1001234567890, detail: { source: "telegram", at: 1714557600000 }, created_at: "2024-05-01T10:00:00.000Z" }],
  next_before: null,
};

export const ReloadAnswer = t.Object({ status: t.Literal("ok"), campaigns: Int(), source: Nullable(t.String({ description: "the config file" })) });
export const reloadExample = { status: "ok", campaigns: 3, source: "/etc/tgcpa/tgcpa.yaml" };
