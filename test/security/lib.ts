// Shared helpers for the security tests: database fingerprints, error-envelope checks, raw HTTP.
import { Database } from "bun:sqlite";
import { connect } from "node:net";

/**
 * Columns that requests may change; the dispatcher's own bookkeeping (state, attempts, leases,
 * timestamps) is left out so a postback being delivered in the background is not a "change".
 */
const FINGERPRINT: Record<string, string> = {
  leads: "id, campaign_id, subscriber, click, username, chat_id, status, joined_at, created_at, updated_at",
  lead_events: "*",
  postbacks: "id, channel, lead_id, event_id, campaign_id, status, template, method, url, body, content_type, host",
  idempotency_keys: "*",
  journal: "*",
  processed_updates: "*",
  chats: "*",
  invite_links: "*",
  bots: "name, telegram_id, username, polling_offset",
};

export type Fingerprint = Record<string, { rows: number; hash: string }>;

/** A read-only view of the service's SQLite file (WAL: it sees every commit the service answered for). */
export class DbWatch {
  private readonly db: Database;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true });
  }

  /** Row count and a hash of the rows of each watched table (minus `ignore`). */
  fingerprint(ignore: readonly string[] = []): Fingerprint {
    const out: Fingerprint = {};
    for (const [table, cols] of Object.entries(FINGERPRINT)) {
      if (ignore.includes(table)) continue;
      const rows = this.db.query(`SELECT ${cols} FROM ${table} ORDER BY rowid`).values();
      const hasher = new Bun.CryptoHasher("sha256");
      for (const r of rows) hasher.update(JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? String(v) : v instanceof Uint8Array ? [...v] : v)));
      out[table] = { rows: rows.length, hash: hasher.digest("hex").slice(0, 16) };
    }
    return out;
  }

  /** Every text value stored anywhere in the database, for secret scans. */
  allText(): string {
    const tables = this.db.query("SELECT name FROM sqlite_master WHERE type = 'table'").values().map((r) => String(r[0]));
    return tables.map((t) => JSON.stringify(this.db.query(`SELECT * FROM "${t}"`).values(), (_k, v) => (typeof v === "bigint" ? String(v) : v))).join("\n");
  }

  close() {
    this.db.close();
  }
}

/** Tables that differ between two fingerprints. */
export const changedTables = (a: Fingerprint, b: Fingerprint) =>
  Object.keys({ ...a, ...b }).filter((t) => JSON.stringify(a[t]) !== JSON.stringify(b[t]));

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
}

/**
 * What is wrong with a non-2xx answer, or null: the management envelope
 * `{error: {code, message}}`, or for /api/postback the AlterCPA style `{status: "error", error}`.
 */
export function envelopeProblem(path: string, a: Answer): string | null {
  if (a.status < 400) return null;
  let body: any;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `answer ${a.status} is not JSON: ${a.text.slice(0, 200)}`;
  }
  if (!a.contentType.includes("application/json")) return `answer ${a.status} has content-type ${a.contentType}`;
  const pathname = path.split("?")[0];
  if (pathname === "/api/postback") {
    if (body?.status !== "error" || typeof body.error !== "string" || body.error === "") {
      return `inbound answer ${a.status} is not {status:"error", error}: ${a.text.slice(0, 200)}`;
    }
    return null;
  }
  const e = body?.error;
  if (!e || typeof e.code !== "string" || !e.code || typeof e.message !== "string" || !e.message) {
    return `answer ${a.status} lacks {error: {code, message}}: ${a.text.slice(0, 200)}`;
  }
  return null;
}

export interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** Sends bytes as they are (no URL or header normalisation) and reads the answer to the end. */
export function rawHttp(port: number, request: string, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw request timed out: ${JSON.stringify(request.slice(0, 120))}`));
    }, timeoutMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text : text.slice(0, split);
      let body = split < 0 ? "" : text.slice(split + 4);
      if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) body = dechunk(body);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
  });
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, eol), 16);
    if (eol < 0 || !size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** A raw HTTP/1.1 request with `Connection: close`. */
export function rawRequest(method: string, target: string, headers: Record<string, string>, body = ""): string {
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "Connection: close"];
  if (body || method === "POST") lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}
