import { iso } from "../lib/json.ts";
import type { Storage, StorageState } from "../storage/port.ts";

/** ok: all is well; degraded: the service runs but a part of it does not (200); error: it cannot do its job (503). */
export type HealthLevel = "ok" | "degraded" | "error";

/** One thing /health looks at: its level and the fields it adds to the answer. */
export interface HealthPart {
  level: HealthLevel;
  fields: Record<string, unknown>;
}

const RANK: Record<HealthLevel, number> = { ok: 0, degraded: 1, error: 2 };

/** The answer of /health: the worst level of its parts is the status; 503 only for error. */
export function healthAnswer(parts: readonly HealthPart[]): { httpStatus: 200 | 503; body: Record<string, unknown> } {
  let level: HealthLevel = "ok";
  const body: Record<string, unknown> = {};
  for (const part of parts) {
    if (RANK[part.level] > RANK[level]) level = part.level;
    Object.assign(body, part.fields);
  }
  return { httpStatus: level === "error" ? 503 : 200, body: { status: level, ...body } };
}

/** The database answers a read. */
export async function databasePart(storage: Pick<Storage, "ping">): Promise<HealthPart> {
  try {
    await storage.ping();
    return { level: "ok", fields: { db: "ok" } };
  } catch (err) {
    return { level: "error", fields: { db: (err as Error).message } };
  }
}

/** The database takes writes, as the last write found (Storage.state): no write of its own. */
export function storagePart(state: StorageState): HealthPart {
  if (state.writable) return { level: "ok", fields: { storage: "writable" } };
  return { level: "error", fields: { storage: "unwritable", storage_error: state.error, storage_unwritable_since: iso(state.since) } };
}

/** After this long without a write (or a probe), asking for the storage state writes one probe row first. */
export const STORAGE_PROBE_AFTER_MS = 10_000;

/**
 * Whether the database takes writes, known cheaply: every write records its outcome
 * (Storage.state), so while the service writes, asking costs nothing. Only
 * when nothing has written for STORAGE_PROBE_AFTER_MS does a request for the state (/health,
 * /metrics) write one row first and answer from its outcome — at most one write per that period,
 * shared by concurrent requests, and none at all while nobody asks. No timer, nothing at start.
 */
export class StorageProbe {
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | null = null;

  constructor(private readonly deps: { storage: Pick<Storage, "write" | "state" | "lastWriteAt">; now: () => number }) {}

  async state(): Promise<StorageState> {
    const { storage, now } = this.deps;
    const quietFor = now() - Math.max(storage.lastWriteAt, this.lastProbeAt);
    if (!this.running && quietFor >= STORAGE_PROBE_AFTER_MS) {
      this.lastProbeAt = now();
      this.running = storage.write(async (tx) => tx.writeProbe(now())).then(
        () => {},
        () => {}, // its outcome is in the storage state
      ).finally(() => (this.running = null));
    }
    if (this.running) await this.running;
    return storage.state();
  }
}
