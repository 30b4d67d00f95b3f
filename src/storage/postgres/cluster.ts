// The instances, their bot leases and the open circuits they share (src/storage/port-cluster.ts).
import type {
  BotLeaseReads, BotLeaseRow, BotLeaseWrites, CircuitReads, CircuitRow, CircuitWrites, InstanceReads, InstanceRow, InstanceWrites,
} from "../port-cluster.ts";
import { num, type Pg } from "./query.ts";
import { BOT_LEASE, CIRCUIT, INSTANCE } from "./rows.ts";

export class PgInstances implements InstanceReads, InstanceWrites {
  constructor(private readonly pg: Pg) {}

  async list(): Promise<InstanceRow[]> {
    return (await this.pg.all(`SELECT ${INSTANCE.columns()} FROM instances ORDER BY started_at, id COLLATE "C"`)).map(INSTANCE.map);
  }

  /** clock_timestamp(): the server's time now, not the transaction's start. */
  async databaseNow(): Promise<number> {
    return num((await this.pg.one(`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::int8 AS now`))!.now);
  }

  async heartbeat(r: InstanceRow): Promise<void> {
    await this.pg.run(`INSERT INTO instances (id, version, "commit", config_hash, hostname, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
      ON CONFLICT (id) DO UPDATE SET version = excluded.version, "commit" = excluded."commit", config_hash = excluded.config_hash,
        hostname = excluded.hostname, pid = excluded.pid, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
    [r.id, r.version, r.commit, r.configHash, r.hostname, r.pid, r.startedAt, r.heartbeatAt]);
  }

  async remove(id: string): Promise<void> {
    await this.pg.run(`DELETE FROM instances WHERE id = $1`, [id]);
  }

  pruneSilent(before: number): Promise<number> {
    return this.pg.run(`DELETE FROM instances WHERE heartbeat_at < $1`, [before]);
  }
}

export class PgBotLeases implements BotLeaseReads, BotLeaseWrites {
  constructor(private readonly pg: Pg) {}

  async all(): Promise<BotLeaseRow[]> {
    return (await this.pg.all(`SELECT ${BOT_LEASE.columns()} FROM bot_leases ORDER BY bot COLLATE "C"`)).map(BOT_LEASE.map);
  }

  /**
   * One upsert for every bot, in name order (two instances claiming the same bots lock their rows
   * in the same order): the owner's live lease is renewed with its epoch, a free one changes hands
   * with the next epoch; a live lease of another owner is not touched (the WHERE of DO UPDATE).
   */
  async claim(bots: readonly string[], owner: string, now: number, leaseMs: number): Promise<BotLeaseRow[]> {
    if (bots.length === 0) return [];
    const names = [...bots].sort();
    await this.pg.run(`INSERT INTO bot_leases (bot, owner, epoch, expires_at, acquired_at, updated_at)
      SELECT bot, $2, 1, $4, $3, $3 FROM unnest($1::text[]) WITH ORDINALITY AS t(bot, ord) ORDER BY ord
      ON CONFLICT (bot) DO UPDATE SET
        epoch = CASE WHEN bot_leases.owner = excluded.owner AND bot_leases.expires_at > $3 THEN bot_leases.epoch ELSE bot_leases.epoch + 1 END,
        acquired_at = CASE WHEN bot_leases.owner = excluded.owner AND bot_leases.expires_at > $3 THEN bot_leases.acquired_at ELSE excluded.acquired_at END,
        owner = excluded.owner, expires_at = excluded.expires_at, updated_at = excluded.updated_at
      WHERE bot_leases.owner = excluded.owner OR bot_leases.expires_at <= $3`, [names, owner, now, now + leaseMs]);
    return (await this.pg.all(`SELECT ${BOT_LEASE.columns()} FROM bot_leases WHERE bot = ANY($1::text[]) ORDER BY bot COLLATE "C"`, [names])).map(BOT_LEASE.map);
  }

  async release(owner: string, now: number): Promise<void> {
    await this.pg.run(`UPDATE bot_leases SET expires_at = $2, updated_at = $2 WHERE owner = $1 AND expires_at > $2`, [owner, now]);
  }
}

export class PgCircuits implements CircuitReads, CircuitWrites {
  constructor(private readonly pg: Pg) {}

  async openAt(now: number): Promise<CircuitRow[]> {
    return (await this.pg.all(`SELECT ${CIRCUIT.columns()} FROM circuits WHERE open_until > $1 ORDER BY host COLLATE "C"`, [now])).map(CIRCUIT.map);
  }

  async open(r: CircuitRow): Promise<void> {
    await this.pg.run(`INSERT INTO circuits (host, open_until, failures, opened_by, updated_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (host) DO UPDATE SET open_until = excluded.open_until, failures = excluded.failures, opened_by = excluded.opened_by,
        updated_at = excluded.updated_at
      WHERE excluded.open_until > circuits.open_until`, [r.host, r.openUntil, r.failures, r.openedBy, r.updatedAt]);
  }

  async close(host: string): Promise<void> {
    await this.pg.run(`DELETE FROM circuits WHERE host = $1`, [host]);
  }

  pruneClosed(before: number): Promise<number> {
    return this.pg.run(`DELETE FROM circuits WHERE open_until <= $1`, [before]);
  }
}
