import type { CampaignConfig, Config } from "./model.ts";

export interface CampaignEntry {
  /** The campaign's id in the database (mirrored by code, stable across reloads). */
  id: number;
  config: CampaignConfig;
}

/**
 * The running configuration plus the database ids of its campaigns. Swapped whole on reload, so a
 * request sees one consistent config from start to end.
 */
export interface Runtime {
  readonly config: Config;
  readonly campaigns: ReadonlyMap<string, CampaignEntry>;
  readonly campaignsById: ReadonlyMap<number, CampaignEntry>;
}

/** The runtime view of a config whose campaigns have these ids (by code). */
export function buildRuntime(config: Config, ids: ReadonlyMap<string, number>): Runtime {
  const byCode = new Map<string, CampaignEntry>();
  for (const c of config.campaigns) byCode.set(c.code, { id: ids.get(c.code)!, config: c });
  return { config, campaigns: byCode, campaignsById: new Map([...byCode.values()].map((e) => [e.id, e])) };
}
