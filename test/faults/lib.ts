// Shared pieces of the process-level fault tests (test/faults/*.test.ts): a seeded random source,
// event posting with Idempotency-Keys across restarts, database snapshots for integrity checks,
// CPU time of a process from /proc.
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServiceProcess } from "../helpers/subprocess.ts";

/** The seed of every test in this folder; override with TGCPA_FAULT_SEED to replay another run. */
export const SEED = Number(process.env.TGCPA_FAULT_SEED ?? 20240611);

/** mulberry32: a small seeded PRNG, the same sequence for the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable number in [0, 1) for a string (FNV-1a mixed with the seed): "a seeded fraction of URLs". */
export function hash01(text: string, seed = SEED): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return rng(h)();
}

/** Polls until `check` holds; throws after `timeoutMs` (a generous bound, never the assertion itself). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 25) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}

/** Copies the database file and its -wal (never -shm) into `into` and opens the copy. */
export function openSnapshot(dbPath: string, into: string): Database {
  mkdirSync(into, { recursive: true });
  const copy = join(into, "tgcpa.db");
  copyFileSync(dbPath, copy);
  if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${copy}-wal`);
  return new Database(copy);
}

export const integrity = (db: Database) => (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");

/** CPU time (user + system) a process has used so far, in ms, from /proc/PID/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces and parentheses: split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]); // field 14 overall
  const stime = Number(fields[12]); // field 15 overall
  return ((utime + stime) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = (() => {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  return Number(out) > 0 ? Number(out) : 100;
})();

/** CPU used by `pid` over `windowMs` of wall time, as a fraction of that wall time. */
export async function cpuShare(pid: number, windowMs: number): Promise<{ cpuMs: number; wallMs: number; share: number }> {
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  await Bun.sleep(windowMs);
  const used = cpuMs(pid) - c0;
  const wall = performance.now() - t0;
  return { cpuMs: used, wallMs: wall, share: used / wall };
}

/** All postbacks in one state through the API, every page. */
export async function listPostbacks(svc: ServiceProcess, state: string): Promise<any[]> {
  const items: any[] = [];
  let before: number | null = null;
  do {
    const res: { status: number; body: any } = await svc.api("GET", `/api/postbacks?state=${state}&limit=500${before ? `&before=${before}` : ""}`);
    if (res.status !== 200) throw new Error(`GET /api/postbacks?state=${state}: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    before = res.body.next_before;
  } while (before);
  return items;
}

export type Status = "wait" | "approve";

/** One event a client posts (with its own Idempotency-Key) until it gets a 200. */
export interface Ev {
  lead: number;
  status: Status;
  key: string;
  body: { campaign: string; subscriber: number; status: Status; click: string };
  /** From the 200 answer: the event is committed. */
  answer?: { leadId: number; eventId: number; postbackIds: number[]; urls: string[]; replayed: boolean };
  /** Which service run gave that answer (1-based). */
  answeredIn?: number;
}

/** Two events per lead, wait then approve, with keys unique to the test. */
export function leadEvents(prefix: string, campaign: string, lead: number, subscriberBase: number): [Ev, Ev] {
  const ev = (status: Status): Ev => ({
    lead, status, key: `${prefix}-${lead}-${status}`,
    body: { campaign, subscriber: subscriberBase + lead, status, click: `${prefix}${lead}` },
  });
  return [ev("wait"), ev("approve")];
}

export class PostError extends Error {}

/**
 * Posts one event. Resolves true on a 200 (recording the answer), false when the request got no
 * answer and `gone()` says the service was being killed or stopped; anything else throws.
 */
export async function postEvent(svc: ServiceProcess, ev: Ev, run: number, gone: () => boolean): Promise<boolean> {
  let res;
  try {
    res = await svc.api("POST", "/api/events", ev.body, { "idempotency-key": ev.key });
  } catch (err) {
    if (gone()) return false; // no answer: maybe committed, maybe not; posted again later
    throw err;
  }
  if (res.status !== 200) throw new PostError(`POST ${ev.key} in run ${run}: ${res.status} ${JSON.stringify(res.body)}`);
  const b = res.body;
  if (b.applied !== true || b.events?.length !== 1 || b.events[0].status !== ev.status) {
    throw new PostError(`POST ${ev.key}: unexpected answer ${JSON.stringify(b)}`);
  }
  ev.answer = {
    leadId: b.lead.id, eventId: b.events[0].id,
    postbackIds: b.postbacks.map((p: { id: number }) => p.id), urls: b.postbacks.map((p: { url: string }) => p.url),
    replayed: res.headers.get("idempotent-replayed") === "true",
  };
  ev.answeredIn ??= run;
  return true;
}
