// The instances, bot leases and shared circuits on SQLite. One process holds a SQLite database
// (its instance lock), so the service does not use them there; they answer as the PostgreSQL
// ones do (test/storage/store-conformance.test.ts), so the port is one on both engines.
import { asc, eq, gt, inArray, lt, lte, sql } from "drizzle-orm";
import type {
  BotLeaseReads, BotLeaseRow, BotLeaseWrites, CircuitReads, CircuitRow, CircuitWrites, InstanceReads, InstanceRow, InstanceWrites,
} from "../port-cluster.ts";
import type { Db } from "./client.ts";
import { botLeases, circuits, instances } from "./schema.ts";

export class SqliteInstances implements InstanceReads, InstanceWrites {
  constructor(private readonly db: Db) {}

  list(): InstanceRow[] {
    return this.db.select().from(instances).orderBy(asc(instances.startedAt), asc(instances.id)).all();
  }

  /** The database is a file of this process: its clock is this machine's. */
  databaseNow(): number {
    return Date.now();
  }

  heartbeat(row: InstanceRow) {
    const { id, ...rest } = row;
    this.db.insert(instances).values(row).onConflictDoUpdate({ target: instances.id, set: rest }).run();
  }

  remove(id: string) {
    this.db.delete(instances).where(eq(instances.id, id)).run();
  }

  pruneSilent(before: number): number {
    return this.db.delete(instances).where(lt(instances.heartbeatAt, before)).returning({ id: instances.id }).all().length;
  }
}

export class SqliteBotLeases implements BotLeaseReads, BotLeaseWrites {
  constructor(private readonly db: Db) {}

  all(): BotLeaseRow[] {
    return this.db.select().from(botLeases).orderBy(asc(botLeases.bot)).all();
  }

  claim(bots: readonly string[], owner: string, now: number, leaseMs: number): BotLeaseRow[] {
    if (bots.length === 0) return [];
    for (const bot of [...bots].sort()) {
      // The owner's live lease is renewed (same epoch); a free one changes hands (epoch + 1).
      const keeps = sql`${botLeases.owner} = excluded.owner AND ${botLeases.expiresAt} > ${now}`;
      this.db.insert(botLeases).values({ bot, owner, epoch: 1, expiresAt: now + leaseMs, acquiredAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: botLeases.bot,
          set: {
            epoch: sql`CASE WHEN ${keeps} THEN ${botLeases.epoch} ELSE ${botLeases.epoch} + 1 END`,
            acquiredAt: sql`CASE WHEN ${keeps} THEN ${botLeases.acquiredAt} ELSE excluded.acquired_at END`,
            owner: sql`excluded.owner`, expiresAt: sql`excluded.expires_at`, updatedAt: sql`excluded.updated_at`,
          },
          where: sql`${botLeases.owner} = excluded.owner OR ${botLeases.expiresAt} <= ${now}`,
        }).run();
    }
    return this.db.select().from(botLeases).where(inArray(botLeases.bot, [...bots])).orderBy(asc(botLeases.bot)).all();
  }

  release(owner: string, now: number) {
    this.db.update(botLeases).set({ expiresAt: now, updatedAt: now }).where(sql`${botLeases.owner} = ${owner} AND ${botLeases.expiresAt} > ${now}`).run();
  }
}

export class SqliteCircuits implements CircuitReads, CircuitWrites {
  constructor(private readonly db: Db) {}

  openAt(now: number): CircuitRow[] {
    return this.db.select().from(circuits).where(gt(circuits.openUntil, now)).orderBy(asc(circuits.host)).all();
  }

  open(row: CircuitRow) {
    this.db.insert(circuits).values(row).onConflictDoUpdate({
      target: circuits.host,
      set: { openUntil: sql`excluded.open_until`, failures: sql`excluded.failures`, openedBy: sql`excluded.opened_by`, updatedAt: sql`excluded.updated_at` },
      where: sql`excluded.open_until > ${circuits.openUntil}`,
    }).run();
  }

  close(host: string) {
    this.db.delete(circuits).where(eq(circuits.host, host)).run();
  }

  pruneClosed(before: number): number {
    return this.db.delete(circuits).where(lte(circuits.openUntil, before)).returning({ host: circuits.host }).all().length;
  }
}
