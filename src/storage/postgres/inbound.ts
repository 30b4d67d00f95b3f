import type { InboundReads, InboundWrites } from "../port.ts";
import type { InboundLogRow, NewInboundLog } from "../rows.ts";
import { num, type Params, type Pg } from "./query.ts";
import { prune } from "./prune.ts";
import { INBOUND_LOG } from "./rows.ts";

/** Every inbound postback with its result code (GET /api/postback-log). */
export class PgInbound implements InboundReads, InboundWrites {
  constructor(private readonly pg: Pg) {}

  async list(f: { result?: string; beforeId?: number; limit: number }): Promise<InboundLogRow[]> {
    const params: Params = [];
    const w: string[] = [];
    if (f.result) w.push(`result = $${params.push(f.result)}`);
    if (f.beforeId !== undefined) w.push(`id < $${params.push(f.beforeId)}`);
    const rows = await this.pg.all(`SELECT ${INBOUND_LOG.columns()} FROM inbound_log ${w.length ? `WHERE ${w.join(" AND ")}` : ""}
      ORDER BY id DESC LIMIT $${params.push(f.limit)}`, params);
    return rows.map(INBOUND_LOG.map);
  }

  async log(row: NewInboundLog): Promise<void> {
    await this.pg.run(`INSERT INTO inbound_log (result, lead_id, status, params, ip, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [row.result, row.leadId, row.status, row.params, row.ip, row.createdAt]);
  }

  prune(before: number, limit: number): Promise<number> {
    return prune(this.pg, "inbound_log", "created_at", before, limit);
  }

  /** Served by inbound_log_result: the newest `keep` rows of requests without a valid key stay. */
  async pruneAccessRows(keep: number): Promise<number> {
    const oldestKept = await this.pg.one<{ id: string }>(`SELECT id FROM inbound_log WHERE result = 'access' ORDER BY id DESC LIMIT 1 OFFSET $1`, [Math.max(0, keep - 1)]);
    return oldestKept ? this.pg.run(`DELETE FROM inbound_log WHERE result = 'access' AND id < $1`, [num(oldestKept.id)]) : 0;
  }
}
