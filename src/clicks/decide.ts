// What the click link does with one request (SPEC §9), as a pure rule: a plain page for a link
// that cannot lead anywhere; otherwise the visitor goes on to the bot, and only a person's GET
// (not a HEAD, not a link-preview crawler, not past the address's rate limit) records a click.
import { MAX_CLICK_LINK_CODE, isLinkPreviewCrawler } from "../domain/click-link.ts";

export interface ClickCampaign {
  code: string;
  paused: boolean;
  mode: "redirect" | "page" | "off";
  bot: string | null;
  /** The bot's @username once it answered getMe; null before. */
  username: string | null;
}

export type ClickRefusal = "unknown_campaign" | "click_link_off" | "no_bot" | "code_too_long" | "campaign_paused" | "bot_not_connected";

/** Why nothing records a click although the visitor is sent on. */
export type NotRecorded = "head" | "crawler" | "rate_limited";

export type ClickDecision =
  | { kind: "refuse"; status: 404 | 410 | 503; reason: ClickRefusal }
  | { kind: "send"; username: string; page: boolean; record: true }
  | { kind: "send"; username: string; page: boolean; record: false; why: NotRecorded };

/**
 * `limited` is asked only for a request that would record a click (it takes one of the address's
 * tokens). 404: no such link (unknown code, the link turned off, no bot to send to); 410: the
 * campaign is paused (the ad should stop); 503: the bot has not answered getMe yet, so its
 * username — the deep link's host part — is unknown (a retry can work).
 */
export function decideClick(
  campaign: ClickCampaign | null, request: { method: string; userAgent: string | null }, limited: () => boolean,
): ClickDecision {
  if (!campaign) return { kind: "refuse", status: 404, reason: "unknown_campaign" };
  if (campaign.mode === "off") return { kind: "refuse", status: 404, reason: "click_link_off" };
  if (campaign.bot === null) return { kind: "refuse", status: 404, reason: "no_bot" };
  // check-config refuses such a code; a payload Telegram would drop must not be made here either.
  if (campaign.code.length > MAX_CLICK_LINK_CODE) return { kind: "refuse", status: 404, reason: "code_too_long" };
  if (campaign.paused) return { kind: "refuse", status: 410, reason: "campaign_paused" };
  if (campaign.username === null) return { kind: "refuse", status: 503, reason: "bot_not_connected" };
  const send = { kind: "send" as const, username: campaign.username, page: campaign.mode === "page" };
  if (request.method === "HEAD") return { ...send, record: false, why: "head" };
  if (isLinkPreviewCrawler(request.userAgent)) return { ...send, record: false, why: "crawler" };
  if (limited()) return { ...send, record: false, why: "rate_limited" };
  return { ...send, record: true };
}

/** What the visitor reads on a refusal page (the campaign's code is the visitor's own URL, safe to repeat). */
export const REFUSAL_WORDS: Record<ClickRefusal, { title: string; text: string }> = {
  unknown_campaign: { title: "Link not found", text: "This link does not lead anywhere: there is no campaign with this name." },
  click_link_off: { title: "Link not found", text: "This campaign has no click link." },
  no_bot: { title: "Link not found", text: "This campaign has no Telegram bot to send you to." },
  code_too_long: { title: "Link not found", text: "This campaign's code is too long for a click link: its Start payload would pass Telegram's 64 characters." },
  campaign_paused: { title: "Campaign paused", text: "This campaign is paused: its link does not lead anywhere now." },
  bot_not_connected: { title: "Try again in a minute", text: "The campaign's Telegram bot is not connected yet. Please try again in a minute." },
};
