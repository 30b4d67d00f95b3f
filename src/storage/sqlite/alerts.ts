import { desc, eq, lt, sql } from "drizzle-orm";
import type { AlertReads, AlertWrites } from "../port-alerts.ts";
import type { AlertIncidentChange, AlertIncidentRow, NewAlertIncident } from "../rows.ts";
import type { Db } from "./client.ts";
import { alertIncidents } from "./schema.ts";

// The newest row of each key, through alert_incidents_key (key, id): the table holds a few rows per
// incident and one per digest day, pruned with the retention.
const NEWEST_OF_EACH_KEY = sql`${alertIncidents.id} IN (SELECT max(id) FROM alert_incidents GROUP BY key)`;

export class SqliteAlerts implements AlertReads, AlertWrites {
  constructor(private readonly db: Db) {}

  current(): AlertIncidentRow[] {
    return this.db.select().from(alertIncidents).where(NEWEST_OF_EACH_KEY).orderBy(alertIncidents.id).all() as AlertIncidentRow[];
  }

  list(f: { beforeId?: number; limit: number }): AlertIncidentRow[] {
    return this.db.select().from(alertIncidents).where(f.beforeId === undefined ? undefined : lt(alertIncidents.id, f.beforeId))
      .orderBy(desc(alertIncidents.id)).limit(f.limit).all() as AlertIncidentRow[];
  }

  insert(row: NewAlertIncident): number {
    return this.db.insert(alertIncidents).values(row).returning({ id: alertIncidents.id }).get()!.id;
  }

  update(id: number, change: AlertIncidentChange) {
    this.db.update(alertIncidents).set(change).where(eq(alertIncidents.id, id)).run();
  }

  delete(id: number) {
    this.db.delete(alertIncidents).where(eq(alertIncidents.id, id)).run();
  }

  prune(before: number, limit: number): number {
    return this.db.$client.prepare(`DELETE FROM alert_incidents WHERE id IN (
        SELECT id FROM alert_incidents WHERE updated_at < ? AND state IN ('resolved', 'sent')
          AND id NOT IN (SELECT max(id) FROM alert_incidents GROUP BY key) LIMIT ${Math.trunc(limit)})`).run(before).changes;
  }
}
