import type { Config } from "../config/model.ts";
import { buildRuntime, type Runtime } from "../config/runtime.ts";
import type { Storage } from "../storage/port.ts";

/** Mirrors the config's campaigns into the database by code (one transaction) and returns the runtime view. */
export async function syncCampaigns(storage: Storage, config: Config, now: number): Promise<Runtime> {
  const mirrors = config.campaigns.map((c) => ({ code: c.code, name: c.name, bot: c.bot, chat: c.chat, paused: c.paused }));
  const ids = await storage.write(async (tx) => tx.campaigns.sync(mirrors, now));
  return buildRuntime(config, ids);
}

/** id → code for every campaign ever mirrored (also those since removed from the config); the id itself when unknown. */
export async function campaignCodes(storage: Pick<Storage, "read">): Promise<(id: number) => string> {
  const map = new Map((await storage.read.campaigns.all()).map((r) => [r.id, r.code]));
  return (id) => map.get(id) ?? String(id);
}
