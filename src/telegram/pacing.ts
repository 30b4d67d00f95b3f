import { BOT_SENDS_PER_SECOND, type BotConfig } from "../config/model.ts";
import type { HostPacing, Pacing } from "../delivery/host-slots.ts";
import { SendPacer, TELEGRAM_PACE } from "../delivery/pacing.ts";
import type { ClaimedPostback } from "../storage/outbox-types.ts";

/** The host of a bot's outbox rows: its own unit for ordering, caps, pacing and the circuit breaker. */
export const telegramHost = (bot: string) => `telegram:${bot}`;

const HOST_PREFIX = "telegram:";

/**
 * Requests in flight to Telegram for a bot: enough for its rate at a round trip of up to 200 ms
 * (25/s → 5, 1000/s → 200), never fewer than delivery.per_host_in_flight.
 */
const inFlightFor = (perSecond: number, perHostInFlight: number) => Math.max(perHostInFlight, Math.ceil(perSecond / 5));

/**
 * The chat a Telegram row sends a message to: welcomes carry the subscriber's chat, alerts
 * (sendMessage) their chat_id — a group's, paced at 20 a minute. Approvals and invite links are not
 * messages to a chat: they count only toward the bot's own rate.
 */
function chatOf(row: ClaimedPostback): number | null {
  const field = row.url.endsWith("/welcome") ? "chat" : row.url.endsWith("/sendMessage") ? "chat_id" : null;
  if (field === null || !row.body) return null;
  let chat: unknown;
  try {
    chat = (JSON.parse(row.body) as Record<string, unknown> | null)?.[field];
  } catch {
    return null; // a body that is not JSON fails in its sender, as a counted attempt; not here, in the claim round
  }
  return typeof chat === "number" ? chat : null;
}

/**
 * One outgoing pacer per bot (SPEC §4): at most `max_per_second` Bot API sends per second, 1 per
 * second to one private chat, 20 per minute to one group; a flood wait pauses the whole bot. A
 * pacer lives as long as its bot's limits stay the same across reloads (its pause included).
 */
export class TelegramPacing implements Pacing {
  private readonly pacers = new Map<string, HostPacing & { perSecond: number; callsPerSecond: number | undefined }>();

  constructor(private readonly bots: () => Readonly<Record<string, BotConfig>>, private readonly perHostInFlight: () => number) {}

  forHost(host: string): HostPacing | undefined {
    if (!host.startsWith(HOST_PREFIX)) return undefined;
    const bot = this.bots()[host.slice(HOST_PREFIX.length)];
    if (!bot) return undefined;
    let pacing = this.pacers.get(host);
    const inFlight = inFlightFor(bot.max_per_second, this.perHostInFlight());
    // Paid broadcasts are messages only: a paid bot's other calls (approvals) keep the free rate.
    const callsPerSecond = bot.paid_broadcast ? Math.min(bot.max_per_second, BOT_SENDS_PER_SECOND.free) : undefined;
    if (!pacing || pacing.perSecond !== bot.max_per_second || pacing.callsPerSecond !== callsPerSecond || pacing.inFlight !== inFlight) {
      const pacer = new SendPacer({ perSecond: bot.max_per_second, callsPerSecond, ...TELEGRAM_PACE });
      const pausedUntil = pacing?.pacer.pausedUntil(0);
      if (pausedUntil) pacer.pause(pausedUntil); // a new rate does not end a flood wait
      pacing = { pacer, chatOf, inFlight, perSecond: bot.max_per_second, callsPerSecond };
      this.pacers.set(host, pacing);
    }
    return pacing;
  }

  pausedHosts(now: number) {
    const out: { host: string; until: number }[] = [];
    for (const [host, p] of this.pacers) {
      const until = p.pacer.pausedUntil(now);
      if (until !== null) out.push({ host, until });
    }
    return out;
  }
}
