import type { JournalReads, JournalWrites } from "../port.ts";
import type { JournalRow, NewJournal } from "../rows.ts";
import { num, type Params, type Pg } from "./query.ts";
import { prune } from "./prune.ts";
import { JOURNAL } from "./rows.ts";

export class PgJournal implements JournalReads, JournalWrites {
  constructor(private readonly pg: Pg) {}

  async list(f: { kind?: string; beforeId?: number; limit: number }): Promise<JournalRow[]> {
    const params: Params = [];
    const w: string[] = [];
    if (f.kind) w.push(`kind = $${params.push(f.kind)}`);
    if (f.beforeId) w.push(`id < $${params.push(f.beforeId)}`);
    const rows = await this.pg.all(`SELECT ${JOURNAL.columns()} FROM journal ${w.length ? `WHERE ${w.join(" AND ")}` : ""}
      ORDER BY id DESC LIMIT $${params.push(f.limit)}`, params);
    return rows.map(JOURNAL.map);
  }

  /** Served by journal_kind_subscriber; the caller picks the latest of the few rows. */
  async organicJoins(campaignId: number, subscriber: number, since: number) {
    const rows = await this.pg.all<{ id: string; detail: Record<string, unknown> | null; createdAt: string }>(
      `SELECT id, detail, created_at AS "createdAt" FROM journal
       WHERE kind = 'organic_join' AND subscriber = $1 AND campaign_id = $2 AND created_at >= $3`, [subscriber, campaignId, since]);
    return rows.map((r) => ({ id: num(r.id), detail: r.detail, createdAt: num(r.createdAt) }));
  }

  async ofSubscriber(subscriber: number, kinds: readonly string[], limit: number): Promise<JournalRow[]> {
    if (kinds.length === 0) return [];
    return (await this.pg.all(`SELECT ${JOURNAL.columns()} FROM journal WHERE kind = ANY($1::text[]) AND subscriber = $2 ORDER BY id DESC LIMIT $3`,
      [[...kinds], subscriber, limit])).map(JOURNAL.map);
  }

  /** Rejected Starts whose payload holds the text (the payload read from the detail). */
  async startsCarrying(text: string, limit: number): Promise<JournalRow[]> {
    return (await this.pg.all(`SELECT ${JOURNAL.columns()} FROM journal
      WHERE kind = 'start_rejected' AND strpos(coalesce(detail->>'payload', ''), $1) > 0 ORDER BY id DESC LIMIT $2`, [text, limit])).map(JOURNAL.map);
  }

  async insert(row: NewJournal): Promise<void> {
    await this.pg.run(`INSERT INTO journal (kind, campaign_id, subscriber, chat_id, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [row.kind, row.campaignId ?? null, row.subscriber ?? null, row.chatId ?? null, row.detail ?? null, row.createdAt]);
  }

  async setKind(id: number, kind: string): Promise<void> {
    await this.pg.run(`UPDATE journal SET kind = $2 WHERE id = $1`, [id, kind]);
  }

  prune(before: number, limit: number): Promise<number> {
    return prune(this.pg, "journal", "created_at", before, limit);
  }
}
