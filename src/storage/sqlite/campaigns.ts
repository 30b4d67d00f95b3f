import { eq, notInArray } from "drizzle-orm";
import type { CampaignMirror, CampaignReads, CampaignWrites } from "../port.ts";
import type { CampaignRow } from "../rows.ts";
import type { Db } from "./client.ts";
import { campaigns } from "./schema.ts";

/** Campaigns mirrored from the config by code, so leads keep a stable id across reloads. */
export class SqliteCampaigns implements CampaignReads, CampaignWrites {
  constructor(private readonly db: Db) {}

  all(): CampaignRow[] {
    return this.db.select({ id: campaigns.id, code: campaigns.code, inConfig: campaigns.inConfig }).from(campaigns).orderBy(campaigns.id).all();
  }

  findId(code: string): number | null {
    return this.db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.code, code)).get()?.id ?? null;
  }

  sync(list: readonly CampaignMirror[], now: number): Map<string, number> {
    const ids = new Map<string, number>();
    for (const c of list) {
      const values = { name: c.name, bot: c.bot, chatId: c.chat, paused: c.paused, inConfig: true, updatedAt: now };
      const row = this.db.insert(campaigns).values({ code: c.code, createdAt: now, ...values })
        .onConflictDoUpdate({ target: campaigns.code, set: values })
        .returning({ id: campaigns.id }).get();
      ids.set(c.code, row.id);
    }
    const codes = list.map((c) => c.code);
    this.db.update(campaigns).set({ inConfig: false, updatedAt: now })
      .where(codes.length ? notInArray(campaigns.code, codes) : eq(campaigns.inConfig, true)).run();
    return ids;
  }
}
