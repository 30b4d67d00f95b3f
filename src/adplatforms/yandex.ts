// Yandex Metrica offline conversions (reference/ad-platforms.md §4): a multipart/form-data upload
// of a CSV to {base}/management/v1/counter/{counterId}/offline_conversions/upload, with
// `Authorization: OAuth <token>`. One upload carries many rows; processing takes up to 2 hours.
import { createHash } from "node:crypto";
import type { MacroValues } from "../domain/templates.ts";
import type { Classification } from "../domain/verdict.ts";
import { hashedExternalId } from "./hashing.ts";
import {
  baseOf, baseUrlParam, byStatus, checkBaseUrl, enc, eventName, eventSeconds, isObject, jsonObject, parseJson, platformWords, refused, retryLater,
  valueOf, type AdPlatform, type AdResponse, type BuiltBody,
} from "./platform.ts";

/**
 * The id that links a conversion to a visit (§4.3), best first: the Yandex Direct click id, the
 * Metrica ClientID the landing page passed as the click's `ym_client_id` parameter, else the
 * hashed Telegram user id as UserId (links only if the site's tag sent the same id).
 */
function visitId(row: MacroValues): { column: "Yclid" | "ClientId" | "UserId"; value: string } {
  if (row.yclid) return { column: "Yclid", value: row.yclid };
  if (row["param:ym_client_id"]) return { column: "ClientId", value: row["param:ym_client_id"] };
  return { column: "UserId", value: hashedExternalId(row.subscriber) };
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

/** The CSV of one upload. Its rows share the id column and whether they carry a price (batchKey). */
export function conversionsCsv(events: Readonly<Partial<Record<string, string>>>, rows: readonly MacroValues[]): string {
  const column = visitId(rows[0]!).column;
  const priced = valueOf(rows[0]!) !== null;
  const header = [column, "Target", "DateTime", ...(priced ? ["Price", "Currency"] : [])];
  const lines = rows.map((row) => {
    const value = valueOf(row);
    const cells = [visitId(row).value, events[row.status] ?? "", String(eventSeconds(row)), ...(priced && value ? [String(value.value), value.currency] : [])];
    return cells.map(csvField).join(",");
  });
  return `${[header.join(","), ...lines].join("\r\n")}\r\n`;
}

/** The multipart upload of one CSV (a boundary taken from the CSV's own hash cannot occur in it). */
function upload(part: string, csv: string): BuiltBody {
  const boundary = `tgcpa-${createHash("sha256").update(csv).digest("hex").slice(0, 32)}`;
  const name = part.replace(/["\r\n]/g, "");
  const body = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="conversions.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`;
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A stored upload's part name, CSV header and rows (as upload() writes them). */
function readUpload(body: string): { part: string; header: string; rows: string[] } | null {
  const boundary = /^--([^\r\n]+)\r\n/.exec(body)?.[1];
  const part = /name="([^"]*)"/.exec(body)?.[1];
  const start = body.indexOf("\r\n\r\n");
  const end = boundary ? body.lastIndexOf(`\r\n--${boundary}--`) : -1;
  if (!boundary || part === undefined || start === -1 || end <= start) return null;
  const csv = body.slice(start + 4, end);
  if (csv.includes('"')) return null; // a quoted field may hold a line break: such a row is sent alone, as built
  const [header, ...rows] = csv.split("\r\n").filter((line) => line !== "");
  return header ? { part, header, rows } : null;
}

/** Refusals of the upload's own (its token, its rights, its counter), whatever rows it carries. */
const REQUEST_REFUSALS = new Set(["unauthorized", "invalid_token", "access_denied", "not_found"]);

const QUOTA = /^quota_/;
const PERMANENT = new Set(["invalid_parameter", "missing_parameter", "unauthorized", "invalid_token", "access_denied", "not_found"]);

function classify(answer: AdResponse): Classification {
  const parsed = parseJson(answer.body);
  const errors = isObject(parsed) && Array.isArray(parsed.errors) ? parsed.errors.filter(isObject) : [];
  if (errors.length) {
    const type = typeof errors[0]!.error_type === "string" ? errors[0]!.error_type : "";
    const words = `yandex ${type || `http ${answer.status}`}: ${platformWords(errors[0]!.message) || platformWords((parsed as Record<string, unknown>).message) || "no message"}`;
    if (type === "backend_error") return retryLater(answer, words, false);
    if (QUOTA.test(type)) return retryLater(answer, words, true);
    if (PERMANENT.has(type)) return refused(words);
    // Another error type: never delivered; the HTTP status says whether to retry.
    const status = byStatus(answer);
    return status.outcome === "retry" || answer.status === 420 ? retryLater(answer, words, answer.status === 420 || answer.status === 429) : refused(words);
  }
  // §4.5: the English page gives 420 for exceeded quotas, the Russian one 429.
  if (answer.status === 420) return retryLater(answer, "yandex http 420: quota exceeded", true);
  if (answer.status < 200 || answer.status >= 300) return byStatus(answer);
  if (isObject(parsed) && isObject(parsed.uploading)) return { outcome: "delivered" };
  return refused("yandex answered without an uploading object (is base_url the Metrica management API?)");
}

export const yandexMetrica: AdPlatform = {
  name: "yandex-metrica",
  platform: "Yandex Metrica offline conversions",
  params: [
    { name: "counter_id", required: true, description: "the Metrica tag (counter) id, digits" },
    { name: "oauth_token", required: true, secret: true, description: "an OAuth token with metrika:write and metrika:offline_data, sent as Authorization: OAuth; use ${YANDEX_OAUTH_TOKEN}" },
    { name: "file_part", required: false, default: "file", description: "name of the multipart part that carries the CSV (unverified by the reference; file is expected)" },
    baseUrlParam("https://api-metrika.yandex.net"),
  ],
  // Goals are the counter's own (a "JavaScript event" goal's identifier): events must name them.
  defaultEvents: {},
  maxEvents: 10_000,
  storedUrl: (s) => `${baseOf(s)}/management/v1/counter/${enc(s.params.counter_id!)}/offline_conversions/upload`,
  build(settings, rows) {
    return upload(settings.params.file_part!, conversionsCsv(settings.events, rows));
  },
  batchKey: (row) => `${visitId(row).column} ${valueOf(row) !== null}`,
  // Rows of one upload share its part and its CSV header (the id column, a price or none).
  bodyBatchKey(body) {
    const read = readUpload(body);
    return read ? JSON.stringify([read.part, read.header]) : null;
  },
  mergeBodies(bodies) {
    const read = bodies.map(readUpload);
    const first = read[0]!;
    return upload(first.part, `${[first.header, ...read.flatMap((r) => r?.rows ?? [])].join("\r\n")}\r\n`);
  },
  refusalMayBeOneEvent(answer) {
    const errors = jsonObject(answer.body)?.errors;
    const type = Array.isArray(errors) && isObject(errors[0]) ? errors[0].error_type : null;
    return !(typeof type === "string" && REQUEST_REFUSALS.has(type)) && ![401, 403, 404].includes(answer.status);
  },
  sign: (_url, secret) => ({ authorization: `OAuth ${secret}` }),
  classify,
  checkEventName: (name) => (/^[^\s",]{1,255}$/.test(name) ? null : "must be a goal identifier without spaces, commas or quotes"),
  checkParams(params) {
    const problems: [string, string][] = [];
    const base = checkBaseUrl(params.base_url);
    if (base) problems.push(["base_url", base]);
    if (!/^\d+$/.test(params.counter_id ?? "")) problems.push(["counter_id", `"${params.counter_id}" is not a counter id (digits)`]);
    if (!/^[A-Za-z0-9_.-]+$/.test(params.file_part ?? "")) problems.push(["file_part", "must be a part name of letters, digits, _ . -"]);
    return problems;
  },
  notes: "multipart CSV upload (Yclid | ClientId | UserId, Target, DateTime, Price, Currency) with Authorization: OAuth; events name the goals (Target).",
};
