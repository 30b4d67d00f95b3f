// GET /api/export/leads and GET /api/export/postbacks: the lists' filters, every matching row as
// CSV or JSON Lines, streamed page by page (export/stream.ts).
import { Elysia, t } from "elysia";
import { campaignCodes } from "../campaigns/registry.ts";
import { asResponses, responses } from "../http/openapi.ts";
import { withMessage } from "../http/schema.ts";
import type { Clock } from "../lib/clock.ts";
import { LeadFilterFields, leadFilterOf } from "../leads/filter.ts";
import { PostbackQueryFields, postbackFilterOf } from "../postbacks/filter.ts";
import type { Storage } from "../storage/port.ts";
import type { LeadRow, PostbackRow } from "../storage/rows.ts";
import { csvLine } from "./csv.ts";
import { LEAD_COLUMNS, POSTBACK_COLUMNS, leadCells, leadJsonLine, leadRecord, postbackCells, postbackJsonLine, postbackRecord } from "./records.ts";
import { exportStream, idPager } from "./stream.ts";

export interface ExportDeps {
  storage: Pick<Storage, "read">;
  clock: Clock;
}

const FORMATS = { csv: "text/csv; charset=utf-8", jsonl: "application/x-ndjson; charset=utf-8" } as const;
type Format = keyof typeof FORMATS;

const FormatField = {
  format: t.Optional(withMessage(t.Union([t.Literal("csv"), t.Literal("jsonl")], {
    title: "format", default: "csv", description: "csv: RFC 4180 with a header row (text cells starting with = + - @ get a leading '); jsonl: one JSON object per line",
  }), "must be csv or jsonl")),
};

/** The file's name: what and when, in UTC (leads-20240501-100000.csv). */
const fileName = (what: string, now: number, format: Format) =>
  `${what}-${new Date(now).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)}.${format}`;

function download(body: ReadableStream<Uint8Array> | string, what: string, format: Format, now: number) {
  return new Response(body, {
    headers: { "content-type": FORMATS[format], "content-disposition": `attachment; filename="${fileName(what, now, format)}"`, "cache-control": "no-store" },
  });
}

const exportAnswers = (what: string, csvExample: string, jsonExample: string) => asResponses({
  ...responses({ schema: t.String(), example: csvExample, description: `Every ${what} the filters match, newest first, streamed`, contentType: "text/csv" }, 401, 422),
  200: {
    description: `Every ${what} the filters match, newest first, streamed as it is read (CSV with a header row, or JSON Lines)`,
    content: { "text/csv": { schema: t.String(), example: csvExample }, "application/x-ndjson": { schema: t.String(), example: jsonExample } },
  },
});

const leadCsvExample = `${csvLine(LEAD_COLUMNS)}${csvLine([42, "spring", 123456789, "alice", "abc123", "approve", -1001234567890, "2024-05-01T10:00:00.000Z", "2024-05-01T10:01:00.000Z", "2024-05-01T10:01:00.000Z", "2024-05-01T10:00:00.000Z", null, "2024-05-01T10:01:00.000Z", null, null, "wait@2024-05-01T10:00:00.000Z approve@2024-05-01T10:01:00.000Z",
  "utm_source=fb&sub1=a7", "fb.1.1714557590000.IwAR2", null, "203.0.113.7", "Mozilla/5.0 (iPhone)", "https://m.facebook.com/", "https://tg.example.com/c/spring?utm_source=fb&sub1=a7", "2024-05-01T09:59:50.000Z"])}`;
const leadJsonExample = `${JSON.stringify({ id: 42, campaign: "spring", subscriber: 123456789, username: "alice", click: "abc123", status: "approve", chat: -1001234567890, created_at: "2024-05-01T10:00:00.000Z", updated_at: "2024-05-01T10:01:00.000Z", joined_at: "2024-05-01T10:01:00.000Z", wait_at: "2024-05-01T10:00:00.000Z", hold_at: null, approve_at: "2024-05-01T10:01:00.000Z", cancel_at: null, trash_at: null, events: [{ status: "wait", at: "2024-05-01T10:00:00.000Z", source: "telegram", reason: null, invite_link: null }, { status: "approve", at: "2024-05-01T10:01:00.000Z", source: "telegram", reason: null, invite_link: "https://t.me/+AbCdEf" }], click_record: { params: { utm_source: "fb", sub1: "a7" }, fbc: "fb.1.1714557590000.IwAR2", fbp: null, ip: "203.0.113.7", user_agent: "Mozilla/5.0 (iPhone)", referrer: "https://m.facebook.com/", landing_url: "https://tg.example.com/c/spring?utm_source=fb&sub1=a7", at: "2024-05-01T09:59:50.000Z" } })}\n`;
const postbackCsvExample = `${csvLine(POSTBACK_COLUMNS)}${csvLine([101, "2024-05-01T10:01:00.000Z", "spring", 42, "abc123", "approve", "postbacks.approve", "GET", "https://trk.example.com/e89bcbe/postback?subid=abc123&status=approve", "trk.example.com", "delivered", null, 1, 0, 200, null, "2024-05-01T10:01:00.120Z"])}`;
const postbackJsonExample = `${JSON.stringify({ id: 101, created_at: "2024-05-01T10:01:00.000Z", campaign: "spring", lead: 42, click: "abc123", status: "approve", template: "postbacks.approve", method: "GET", url: "https://trk.example.com/e89bcbe/postback?subid=abc123&status=approve", host: "trk.example.com", state: "delivered", reason: null, attempts: 1, earlier_attempts: 0, last_http_status: 200, next_attempt_at: null, finished_at: "2024-05-01T10:01:00.120Z", body: null })}\n`;

export function exportRoutes(ctx: ExportDeps) {
  const { read } = ctx.storage;
  return new Elysia({ detail: { tags: ["export"] } })
    .get("/api/export/leads", async ({ query }) => {
      const format: Format = query.format ?? "csv";
      const now = ctx.clock.now();
      const header = format === "csv" ? csvLine(LEAD_COLUMNS) : "";
      const filter = await leadFilterOf(read, query);
      if (!filter) return download(header, "leads", format, now);
      const codeOf = await campaignCodes(ctx.storage);
      const pages = idPager<LeadRow>({
        selective: filter.subscriber !== undefined || filter.click !== undefined || filter.username !== undefined,
        list: (beforeId, limit) => read.leads.list({ ...filter, beforeId, limit }),
        maxId: () => read.leads.maxId(),
        inIdRange: (from, to) => read.leads.inIdRange(filter, from, to),
      });
      return download(exportStream(header, pages, async (leads) => {
        const events = Map.groupBy(await read.leads.eventsOf(leads.map((l) => l.id)), (e) => e.leadId);
        const clickIds = leads.flatMap((l) => (l.clickId === null ? [] : [l.clickId]));
        const clicks = new Map((await read.clicks.getMany(clickIds)).map((c) => [c.id, c]));
        let out = "";
        for (const l of leads) {
          const record = leadRecord(l, events.get(l.id) ?? [], codeOf, l.clickId === null ? null : (clicks.get(l.clickId) ?? null));
          out += format === "csv" ? csvLine(leadCells(record)) : leadJsonLine(record);
        }
        return out;
      }), "leads", format, now);
    }, {
      query: t.Object({ ...LeadFilterFields, ...FormatField }),
      detail: {
        summary: "Export leads with their statuses and times (CSV or JSON Lines), by the filters of GET /api/leads",
        description: "Streamed: rows are read page by page while the answer is sent, so any number of them passes without being held in memory. `<status>_at` is the first time the lead reached that status; `events` every event in order; `click_*` (JSON Lines: `click_record`) the click link's click the lead came from, its parameters as a query string.",
        responses: exportAnswers("lead", leadCsvExample, leadJsonExample),
      },
    })
    .get("/api/export/postbacks", async ({ query }) => {
      const format: Format = query.format ?? "csv";
      const now = ctx.clock.now();
      const header = format === "csv" ? csvLine(POSTBACK_COLUMNS) : "";
      const filter = await postbackFilterOf(read, query, "query");
      if (!filter) return download(header, "postbacks", format, now);
      const codeOf = await campaignCodes(ctx.storage);
      const pages = idPager<PostbackRow>({
        selective: filter.leadId !== undefined,
        list: (beforeId, limit) => read.outbox.list({ ...filter, beforeId, limit }),
        maxId: () => read.outbox.maxId(),
        inIdRange: (from, to) => read.outbox.inIdRange(filter, from, to),
      });
      return download(exportStream(header, pages, async (rows) => {
        const ids = [...new Set(rows.map((r) => r.leadId).filter((id) => id > 0))];
        const clicks = new Map((await read.leads.getMany(ids)).map((l) => [l.id, l.click]));
        let out = "";
        for (const p of rows) {
          const record = postbackRecord(p, codeOf, clicks.get(p.leadId) ?? null);
          out += format === "csv" ? csvLine(postbackCells(record)) : postbackJsonLine(record);
        }
        return out;
      }), "postbacks", format, now);
    }, {
      query: t.Object({ ...PostbackQueryFields, ...FormatField }),
      detail: {
        summary: "Export postbacks with their lead's click (CSV or JSON Lines), by the filters of GET /api/postbacks",
        description: "Streamed: rows are read page by page while the answer is sent. The CSV leaves out request bodies (JSON Lines has them).",
        responses: exportAnswers("postback", postbackCsvExample, postbackJsonExample),
      },
    });
}
