import { eq, notInArray } from "drizzle-orm";
import type { CampaignConfig, Config } from "../config/model.ts";
import type { Db } from "../db/client.ts";
import { campaigns } from "../db/schema.ts";

export interface CampaignEntry {
  id: number;
  config: CampaignConfig;
}

/**
 * The running configuration plus the DB ids of its campaigns. Swapped whole on reload, so a
 * request sees one consistent config from start to end.
 */
export interface Runtime {
  readonly config: Config;
  readonly campaigns: ReadonlyMap<string, CampaignEntry>;
  readonly campaignsById: ReadonlyMap<number, CampaignEntry>;
}

/** Mirrors the config's campaigns into the DB by code (one transaction) and returns the runtime view. */
export function syncCampaigns(db: Db, config: Config, now: number): Runtime {
  const byCode = new Map<string, CampaignEntry>();
  db.transaction((tx) => {
    for (const c of config.campaigns) {
      const values = { name: c.name, bot: c.bot, chatId: c.chat, paused: c.paused, inConfig: true, updatedAt: now };
      const row = tx.insert(campaigns).values({ code: c.code, createdAt: now, ...values })
        .onConflictDoUpdate({ target: campaigns.code, set: values })
        .returning({ id: campaigns.id }).get();
      byCode.set(c.code, { id: row.id, config: c });
    }
    const codes = config.campaigns.map((c) => c.code);
    tx.update(campaigns).set({ inConfig: false, updatedAt: now })
      .where(codes.length ? notInArray(campaigns.code, codes) : eq(campaigns.inConfig, true)).run();
  });
  return { config, campaigns: byCode, campaignsById: new Map([...byCode.values()].map((e) => [e.id, e])) };
}
