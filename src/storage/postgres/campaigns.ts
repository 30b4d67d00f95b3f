import type { CampaignMirror, CampaignReads, CampaignWrites } from "../port.ts";
import type { CampaignRow } from "../rows.ts";
import { num, type Pg } from "./query.ts";

/** Campaigns mirrored from the config by code, so leads keep a stable id across reloads (and across instances). */
export class PgCampaigns implements CampaignReads, CampaignWrites {
  constructor(private readonly pg: Pg) {}

  async all(): Promise<CampaignRow[]> {
    const rows = await this.pg.all<{ id: string; code: string; inConfig: boolean }>(`SELECT id, code, in_config AS "inConfig" FROM campaigns ORDER BY id`);
    return rows.map((r) => ({ id: num(r.id), code: r.code, inConfig: r.inConfig }));
  }

  async findId(code: string): Promise<number | null> {
    const row = await this.pg.one<{ id: string }>(`SELECT id FROM campaigns WHERE code = $1`, [code]);
    return row ? num(row.id) : null;
  }

  /** One statement for the config's campaigns (instances starting together upsert the same codes), one for the others. */
  async sync(list: readonly CampaignMirror[], now: number): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    if (list.length) {
      const rows = await this.pg.all<{ id: string; code: string }>(`INSERT INTO campaigns (code, name, bot, chat_id, paused, in_config, created_at, updated_at)
        SELECT code, name, bot, chat_id, paused, true, $6, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::bool[]) AS t(code, name, bot, chat_id, paused)
        ON CONFLICT (code) DO UPDATE SET name = excluded.name, bot = excluded.bot, chat_id = excluded.chat_id, paused = excluded.paused,
          in_config = true, updated_at = excluded.updated_at
        RETURNING id, code`,
      [list.map((c) => c.code), list.map((c) => c.name), list.map((c) => c.bot), list.map((c) => c.chat), list.map((c) => c.paused), now]);
      const byCode = new Map(rows.map((r) => [r.code, num(r.id)]));
      for (const c of list) ids.set(c.code, byCode.get(c.code)!);
    }
    // As on SQLite: every campaign not in the list, or (an empty list) every one still marked in the config.
    if (list.length) await this.pg.run(`UPDATE campaigns SET in_config = false, updated_at = $1 WHERE NOT (code = ANY($2::text[]))`, [now, list.map((c) => c.code)]);
    else await this.pg.run(`UPDATE campaigns SET in_config = false, updated_at = $1 WHERE in_config`, [now]);
    return ids;
  }
}
