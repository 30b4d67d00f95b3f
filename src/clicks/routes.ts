// GET|HEAD /c/{campaign}: the click link (SPEC §9). The rule is decide.ts, the click service.ts, the pages pages.ts.
import { Elysia, t } from "elysia";
import type { Runtime } from "../config/runtime.ts";
import type { PeerSource } from "../http/client-address.ts";
import { RateLimiter } from "../http/rate-limit.ts";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { decideClick, REFUSAL_WORDS } from "./decide.ts";
import { CLICK_LINK_DOC } from "./model.ts";
import { PAGE_HEADERS, deepLinks, openInTelegramPage, refusalPage } from "./pages.ts";
import { recordClick, type RecordClickDeps } from "./service.ts";

export interface ClickLinkDeps extends Omit<RecordClickDeps, "publicUrl"> {
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  runtime(): Runtime;
  /** The bot's username once it answered getMe. */
  botUsername(bot: string): Promise<string | null>;
}

/** Seconds a visitor is asked to wait when the bot is not connected yet (getMe is retried within a minute). */
const RETRY_AFTER_S = 30;

const redirect = (location: string) => new Response(null, { status: 302, headers: { location, "cache-control": "no-store", "referrer-policy": "no-referrer" } });

export function clickRoutes(deps: ClickLinkDeps) {
  // Built once, like the other limits: a change to rate_limits needs a restart.
  const limit = new RateLimiter(deps.runtime().config.rate_limits.click_per_minute);
  const recordDeps: RecordClickDeps = { ...deps, publicUrl: () => deps.runtime().config.server.public_url };

  const handle = async ({ params, request, server }: { params: { campaign: string }; request: Request; server: PeerSource }) => {
    const entry = deps.runtime().campaigns.get(params.campaign) ?? null;
    const c = entry?.config;
    const username = c?.bot ? await deps.botUsername(c.bot) : null;
    const decision = decideClick(
      c ? { code: c.code, paused: c.paused, mode: c.click_link.mode, bot: c.bot, username } : null,
      { method: request.method, userAgent: request.headers.get("user-agent") },
      () => limit.take(deps.clientAddress(request, server) ?? "unknown", Date.now()) > 0,
    );
    if (decision.kind === "refuse") {
      deps.metrics.recordClick(decision.reason);
      const words = REFUSAL_WORDS[decision.reason];
      const retry = decision.status === 503 ? { "retry-after": String(RETRY_AFTER_S) } : {};
      return new Response(request.method === "HEAD" ? null : refusalPage(words.title, words.text), { status: decision.status, headers: { ...PAGE_HEADERS, ...retry } });
    }
    const code = c!.code;
    let token: string | null = null;
    if (decision.record) {
      try {
        token = await recordClick(recordDeps, request, server, entry!);
      } catch (err) {
        // The visitor still reaches the bot; the lead just has no click (no attribution).
        deps.log.warn({ err, campaign: code }, "a click could not be stored; the visitor was sent on without one");
      }
    }
    deps.metrics.recordClick(token ? "recorded" : decision.record ? "not_stored" : decision.why);
    const payload = token ? `${code}-${token}` : code;
    if (decision.page) return new Response(request.method === "HEAD" ? null : openInTelegramPage(decision.username, payload), { headers: PAGE_HEADERS });
    return redirect(deepLinks(decision.username, payload).https);
  };

  const params = t.Object({ campaign: t.String({ description: "the campaign's code" }) });
  return new Elysia({ detail: { tags: ["campaigns"] } })
    .get("/c/:campaign", handle, { params, detail: CLICK_LINK_DOC })
    // Documented with the GET (a HEAD is answered as it would be, and never records a click).
    .head("/c/:campaign", handle, { params, detail: { hide: true } });
}
