// Alert incidents on PostgreSQL (src/storage/port-alerts.ts), answering as src/storage/sqlite/alerts.ts.
import type { AlertReads, AlertWrites } from "../port-alerts.ts";
import type { AlertIncidentChange, AlertIncidentRow, NewAlertIncident } from "../rows.ts";
import { num, type Params, type Pg } from "./query.ts";
import { ALERT_INCIDENT } from "./rows.ts";

const COLUMNS = ALERT_INCIDENT.columns();
const FIELDS: Record<keyof AlertIncidentChange, string> = {
  state: "state", badSince: "bad_since", goodSince: "good_since", firedAt: "fired_at", resolvedAt: "resolved_at", detail: "detail", updatedAt: "updated_at",
};

export class PgAlerts implements AlertReads, AlertWrites {
  constructor(private readonly pg: Pg) {}

  /** The newest row of each key, through alert_incidents_key (key, id). */
  async current(): Promise<AlertIncidentRow[]> {
    return (await this.pg.all(`SELECT ${COLUMNS} FROM alert_incidents WHERE id IN (SELECT max(id) FROM alert_incidents GROUP BY key) ORDER BY id`)).map(ALERT_INCIDENT.map);
  }

  async list(f: { beforeId?: number; limit: number }): Promise<AlertIncidentRow[]> {
    const params: Params = [f.limit];
    const where = f.beforeId === undefined ? "" : `WHERE id < $${params.push(f.beforeId)}`;
    return (await this.pg.all(`SELECT ${COLUMNS} FROM alert_incidents ${where} ORDER BY id DESC LIMIT $1`, params)).map(ALERT_INCIDENT.map);
  }

  async insert(r: NewAlertIncident): Promise<number> {
    const [{ id }] = await this.pg.all<{ id: string }>(`INSERT INTO alert_incidents (key, kind, subject, state, bad_since, good_since, fired_at, resolved_at, detail, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [r.key, r.kind, r.subject, r.state, r.badSince, r.goodSince, r.firedAt, r.resolvedAt, r.detail, r.createdAt, r.updatedAt]) as [{ id: string }];
    return num(id);
  }

  async update(id: number, change: AlertIncidentChange): Promise<void> {
    const params: Params = [id];
    const set = (Object.keys(change) as (keyof AlertIncidentChange)[]).filter((k) => change[k] !== undefined)
      .map((k) => `${FIELDS[k]} = $${params.push(change[k])}`);
    if (set.length) await this.pg.run(`UPDATE alert_incidents SET ${set.join(", ")} WHERE id = $1`, params);
  }

  async delete(id: number): Promise<void> {
    await this.pg.run(`DELETE FROM alert_incidents WHERE id = $1`, [id]);
  }

  prune(before: number, limit: number): Promise<number> {
    return this.pg.run(`DELETE FROM alert_incidents WHERE id IN (
      SELECT id FROM alert_incidents WHERE updated_at < $1 AND state IN ('resolved', 'sent')
        AND id NOT IN (SELECT max(id) FROM alert_incidents GROUP BY key) LIMIT ${Math.trunc(limit)})`, [before]);
  }
}
