import type { SessionReads, SessionWrites } from "../port.ts";
import type { SessionRow } from "../rows.ts";
import type { Pg } from "./query.ts";
import { SESSION } from "./rows.ts";

export class PgSessions implements SessionReads, SessionWrites {
  constructor(private readonly pg: Pg) {}

  async find(id: string): Promise<SessionRow | null> {
    const row = await this.pg.one(`SELECT ${SESSION.columns()} FROM dashboard_sessions WHERE id = $1`, [id]);
    return row && SESSION.map(row);
  }

  async insert(row: SessionRow): Promise<void> {
    await this.pg.run(`INSERT INTO dashboard_sessions (id, key_check, created_at, expires_at) VALUES ($1, $2, $3, $4)`, [row.id, row.keyCheck, row.createdAt, row.expiresAt]);
  }

  async delete(id: string): Promise<void> {
    await this.pg.run(`DELETE FROM dashboard_sessions WHERE id = $1`, [id]);
  }

  async deleteExpired(now: number): Promise<void> {
    await this.pg.run(`DELETE FROM dashboard_sessions WHERE expires_at <= $1`, [now]);
  }
}
