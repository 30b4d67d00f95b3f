// Looking into a service's SQLite file from a test: a read-only watch that fingerprints what
// requests may change (so a refused request can be shown to have written nothing), a copy of the
// file as a crash left it, and integrity_check.
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { onPostgres, openTestDb, type TestDb } from "./service/database.ts";

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

/** Copies the database file and its -wal (never -shm) into `into` and opens the copy. */
export function openSnapshot(dbPath: string, into: string): Database {
  mkdirSync(into, { recursive: true });
  const copy = join(into, "tgcpa.db");
  copyFileSync(dbPath, copy);
  if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${copy}-wal`);
  return new Database(copy);
}

/** PRAGMA integrity_check's rows joined: "ok" for a sound file. */
export const integrity = (db: Database) => (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");

/** Every text value stored anywhere in the service's database, on either engine (TGCPA_TEST_STORAGE), for secret scans. */
export async function storedText(path: string): Promise<string> {
  const db = await openTestDb(path, { readonly: true });
  try {
    const tables = (await db.all<{ name: string }>(onPostgres
      ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
      : "SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name);
    const parts: string[] = [];
    for (const t of tables) parts.push(JSON.stringify((await db.all(`SELECT * FROM "${t}"`)).map((r) => Object.values(r))));
    return parts.join("\n");
  } finally {
    await db.close();
  }
}

/**
 * The database as a crash left it, for a test to look at before the next start: on SQLite a copy
 * of the file and its -wal (openSnapshot), on PostgreSQL the database itself (nothing writes to it
 * until the next process starts).
 */
export async function crashState(dbPath: string, into: string): Promise<TestDb> {
  if (!onPostgres) {
    const copy = openSnapshot(dbPath, into);
    copy.close();
    return openTestDb(join(into, "tgcpa.db"));
  }
  return openTestDb(dbPath, { readonly: true });
}

/** SQLite's integrity_check of the database ("ok" when sound); PostgreSQL keeps its own files sound and has none: "ok". */
export async function integrityOf(db: TestDb): Promise<string> {
  if (onPostgres) return "ok";
  return (await db.all<{ integrity_check: string }>("PRAGMA integrity_check")).map((r) => r.integrity_check).join("; ");
}
