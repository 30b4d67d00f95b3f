import { eq } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import { campaigns } from "../db/schema.ts";

/** id → code for every campaign ever mirrored (also those since removed from the config). */
export function campaignCodes(db: Executor): (id: number) => string {
  const map = new Map(db.select({ id: campaigns.id, code: campaigns.code }).from(campaigns).all().map((r) => [r.id, r.code]));
  return (id) => map.get(id) ?? String(id);
}

/** Every campaign ever mirrored, oldest first, with whether it is still in the config. */
export const listCampaignRows = (db: Executor) =>
  db.select({ id: campaigns.id, code: campaigns.code, inConfig: campaigns.inConfig }).from(campaigns).orderBy(campaigns.id).all();

export const findCampaignId = (db: Executor, code: string) =>
  db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.code, code)).get()?.id;
