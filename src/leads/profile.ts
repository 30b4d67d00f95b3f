// A lead's profile (issue 22), written in the transaction of each of its events: the quality
// signals and score (domain/quality.ts), the welcome variant chosen at its Start
// (domain/welcome-variant.ts) and its retention cohort counters (domain/cohorts.ts).
import type { CampaignEntry } from "../config/runtime.ts";
import { cohortChange } from "../domain/cohorts.ts";
import { nextSignals, qualityBand, scoreQuality, type QualitySignals, type SubscriberProfile } from "../domain/quality.ts";
import { chooseVariant } from "../domain/welcome-variant.ts";
import type { Tx } from "../storage/port.ts";
import { bucketOf } from "../lib/time-zones.ts";
import type { LeadEventRow, LeadProfileRow, LeadRow } from "../storage/rows.ts";

/** The signals of a lead with no profile row yet: nothing known but its subscriber id. */
const unknownSignals = (subscriber: number): QualitySignals => ({
  premium: null, language: null, hasUsername: null, subscriber, startToJoinMs: null, fastLeave: false,
});

/** The welcome variant a subscriber gets: by language, then by weight, the same on every Start. null: a single welcome. */
export function variantFor(campaign: CampaignEntry, subscriber: number, language: string | null): string | null {
  const variants = campaign.config.welcome;
  if (!variants || variants.length < 2) return null;
  return variants[chooseVariant(variants, language, `${campaign.config.code}:${subscriber}`)]!.name;
}

/**
 * Updates the lead's profile for one applied event and moves its cohort counters; the row as
 * written (its score fills the `{quality}` macro of the event's postbacks).
 */
export async function recordProfile(
  tx: Tx, campaign: CampaignEntry, lead: LeadRow, prev: LeadRow | null, event: Pick<LeadEventRow, "status" | "occurredAt">, profile: SubscriberProfile | undefined, now: number,
): Promise<LeadProfileRow> {
  const stored = prev ? await tx.profiles.ofLead(lead.id) : null;
  const before: QualitySignals = stored ? { ...stored, subscriber: lead.subscriber } : unknownSignals(lead.subscriber);
  const firstJoin = event.status === "approve" && !stored?.firstJoinedAt;
  const signals = nextSignals(before, {
    status: event.status, at: event.occurredAt, profile, startedAt: stored?.startedAt ?? (prev ? lead.createdAt : event.occurredAt), joinedAt: prev?.joinedAt ?? null, firstJoin,
  });
  const { score, reasons } = scoreQuality(signals, now);
  const variant = stored ? stored.welcomeVariant : variantFor(campaign, lead.subscriber, signals.language);
  const row: LeadProfileRow = {
    leadId: lead.id, campaignId: campaign.id, premium: signals.premium, language: signals.language, hasUsername: signals.hasUsername,
    startToJoinMs: signals.startToJoinMs, fastLeave: signals.fastLeave, quality: score, qualityReasons: reasons, welcomeVariant: variant,
    startedAt: stored?.startedAt ?? (prev ? null : event.occurredAt),
    firstJoinedAt: firstJoin ? event.occurredAt : (stored?.firstJoinedAt ?? null),
    cohortBand: firstJoin ? qualityBand(score) : (stored?.cohortBand ?? null), updatedAt: now,
  };
  await tx.profiles.save(row);
  if (!prev || firstJoin) {
    await tx.cohorts.addFunnel({
      campaignId: campaign.id, bucket: bucketOf(event.occurredAt), variant: variant ?? "", band: qualityBand(score), starts: prev ? 0 : 1, joins: firstJoin ? 1 : 0,
    });
  }
  const change = cohortChange({ prevStatus: prev?.status ?? null, status: event.status, at: event.occurredAt, firstJoinedAt: stored?.firstJoinedAt ?? null });
  if (change && row.cohortBand) {
    await tx.cohorts.add({
      campaignId: campaign.id, bucket: change.bucket, variant: variant ?? "", band: row.cohortBand, joined: change.joined,
      out1d: change.out[1], out7d: change.out[7], out14d: change.out[14], out30d: change.out[30],
    });
  }
  return row;
}
