import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/tx.ts";
import { campaigns, leadEvents, postbacks } from "../db/schema.ts";

/** id → code for every campaign ever mirrored (also those since removed from the config). */
export function campaignCodes(db: Executor): (id: number) => string {
  const map = new Map(db.select({ id: campaigns.id, code: campaigns.code }).from(campaigns).all().map((r) => [r.id, r.code]));
  return (id) => map.get(id) ?? String(id);
}

export const findCampaignId = (db: Executor, code: string) =>
  db.select({ id: campaigns.id }).from(campaigns).where(eq(campaigns.code, code)).get()?.id;

/** Event counts per campaign and status, and postback counts per campaign and state. */
export function campaignCounters(db: Executor) {
  const events = db.select({ campaignId: leadEvents.campaignId, status: leadEvents.status, n: sql<number>`count(*)` })
    .from(leadEvents).groupBy(leadEvents.campaignId, leadEvents.status).all();
  const outbox = db.select({ campaignId: postbacks.campaignId, state: postbacks.state, n: sql<number>`count(*)` })
    .from(postbacks).where(eq(postbacks.channel, "http")).groupBy(postbacks.campaignId, postbacks.state).all();
  return { events, outbox };
}
