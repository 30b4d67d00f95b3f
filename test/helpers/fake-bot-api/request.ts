// The server side of one HTTP request: the body read as Telegram does (query, JSON, form or
// grammY's multipart with attach:// files), parameters read like Telegram reads them, and the
// JSON answer.
import { randomBytes } from "node:crypto";
import { BotApiError, type UploadedFile } from "./types.ts";

const JSON_FIELDS = new Set([
  "reply_markup",
  "entities",
  "caption_entities",
  "allowed_updates",
  "link_preview_options",
  "reply_parameters",
  "media",
  "commands",
  "scope",
  "permissions",
]);
const NUMBER_FIELDS = new Set([
  "chat_id",
  "user_id",
  "message_id",
  "message_thread_id",
  "reply_to_message_id",
  "from_chat_id",
  "offset",
  "limit",
  "timeout",
  "max_connections",
  "expire_date",
  "member_limit",
  "until_date",
  "duration",
  "width",
  "height",
  "start_timestamp",
]);
const BOOLEAN_FIELDS = new Set([
  "disable_notification",
  "protect_content",
  "allow_sending_without_reply",
  "allow_paid_broadcast",
  "has_spoiler",
  "supports_streaming",
  "show_caption_above_media",
  "creates_join_request",
  "drop_pending_updates",
  "disable_web_page_preview",
  "revoke_messages",
  "only_if_banned",
]);

function decodeField(key: string, value: string): unknown {
  if (JSON_FIELDS.has(key)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (NUMBER_FIELDS.has(key) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (BOOLEAN_FIELDS.has(key) && (value === "true" || value === "false")) return value === "true";
  return value;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function randomId(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

/** Splits a header value on `;` outside quotes and reads `key=value` / `key="value"` pairs. */
function headerParams(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? "";
    if (ch === '"' && value[i - 1] !== "\\") quoted = !quoted;
    if (ch === ";" && !quoted) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  for (const p of parts) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    const k = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    out.set(k, v);
  }
  return out;
}

interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** A tolerant multipart/form-data parser (grammY's parts are not quite RFC 7578). */
function parseMultipart(body: Buffer, boundary: string): Part[] {
  const parts: Part[] = [];
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delim);
  while (pos !== -1) {
    let start = pos + delim.length;
    if (body[start] === 45 && body[start + 1] === 45) break; // "--": closing delimiter
    if (body[start] === 13 && body[start + 1] === 10) start += 2;
    const end = body.indexOf(next, start);
    if (end === -1) break;
    const raw = body.subarray(start, end);
    const headerEnd = raw.indexOf("\r\n\r\n");
    if (headerEnd !== -1) {
      const headers = raw.subarray(0, headerEnd).toString("utf8").split("\r\n");
      let disposition = "";
      for (const h of headers) {
        const colon = h.indexOf(":");
        if (colon > 0 && h.slice(0, colon).trim().toLowerCase() === "content-disposition") disposition = h.slice(colon + 1);
      }
      const p = headerParams(disposition);
      const name = p.get("name");
      if (name !== undefined) parts.push({ name, filename: p.get("filename"), data: Buffer.from(raw.subarray(headerEnd + 4)) });
    }
    pos = end + 2;
  }
  return parts;
}

export async function readRequest(req: Request, url: URL): Promise<{ params: Record<string, unknown>; files: Record<string, UploadedFile> }> {
  const params: Record<string, unknown> = {};
  const files: Record<string, UploadedFile> = {};
  for (const [k, v] of url.searchParams) params[k] = decodeField(k, v);
  if (req.method === "GET" || req.method === "HEAD") return { params, files };
  const body = Buffer.from(await req.arrayBuffer());
  if (body.length === 0) return { params, files };
  const type = req.headers.get("content-type") ?? "";
  const lower = type.toLowerCase();
  if (lower.startsWith("multipart/form-data")) {
    const boundary = headerParams(type).get("boundary");
    if (!boundary) throw new BotApiError(400, "Bad Request: can't parse multipart/form-data");
    const uploads = new Map<string, UploadedFile>();
    for (const part of parseMultipart(body, boundary)) {
      if (part.filename !== undefined) uploads.set(part.name, { name: part.filename, size: part.data.length });
      else params[part.name] = decodeField(part.name, part.data.toString("utf8"));
    }
    const attached = new Set<string>();
    for (const [k, v] of Object.entries(params)) {
      if (typeof v === "string" && v.startsWith("attach://")) {
        const up = uploads.get(v.slice("attach://".length));
        if (up) {
          files[k] = up;
          attached.add(v.slice("attach://".length));
        }
      }
    }
    // Files uploaded directly under the parameter name (no attach:// indirection).
    for (const [name, up] of uploads) if (!attached.has(name)) files[name] = up;
  } else if (lower.startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(body.toString("utf8"))) params[k] = decodeField(k, v);
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new BotApiError(400, "Bad Request: can't parse JSON object");
    }
    if (isRecord(parsed)) Object.assign(params, parsed);
  }
  return { params, files };
}

export function unauthorized() {
  return { ok: false, error_code: 401, description: "Unauthorized" };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

export function chatIdParam(v: unknown): number | string {
  if (typeof v === "string" && v.startsWith("@")) return v;
  const id = num(v);
  if (id === undefined) throw new BotApiError(400, "Bad Request: chat not found");
  return id;
}

export function numericChatId(v: unknown): number {
  const id = num(v);
  if (id === undefined) throw new BotApiError(400, "Bad Request: chat not found");
  return id;
}

/** A call's parameters, shortened for a timeout message. */
export function summarize(params: Record<string, unknown>): string {
  const s = JSON.stringify(params);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
