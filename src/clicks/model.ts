// The click link's contract in the OpenAPI document: its answers are pages and redirects, not JSON.
import { t } from "elysia";
import { asResponses } from "../http/openapi.ts";
import { openInTelegramPage, refusalPage } from "./pages.ts";
import { REFUSAL_WORDS } from "./decide.ts";

const html = (description: string, example: string) => ({
  description, content: { "text/html": { schema: t.String({ description: "an HTML page" }), example } },
});

const REDIRECT = {
  description: "To the bot: `Location: https://t.me/<bot>?start=<code>-<token>` (a click was recorded; its token rides the Start payload), or "
    + "`https://t.me/<bot>?start=<code>` without a token when nothing was recorded: a HEAD, a link-preview crawler, a client past rate_limits.click_per_minute",
  headers: { location: { schema: { type: "string" }, description: "the deep link" } },
};

export const CLICK_LINK_DOC = {
  summary: "The click link: records a click and sends the visitor to the campaign's bot",
  description: "Public, no key. Records every query parameter (the first of each name; at most 50, names up to 64 bytes, values cut to 512 bytes), "
    + "the `_fbc`/`_fbp` cookies (else `fbc` = `fb.1.<ms>.<fbclid>`), the client address (through server.trusted_proxies), user agent, referrer, "
    + "the URL and the time, then redirects (302) to `https://t.me/<bot>?start=<code>-<token>`, or with `click_link.mode: page` answers a page with "
    + "\"Open in Telegram\" (`tg://resolve?domain=<bot>&start=<payload>`) and the t.me link. HEAD and link-preview crawlers (Telegram, Facebook, "
    + "Twitter, Slack, WhatsApp, … user agents) are sent on without a click. A Start whose payload carries the token attaches the click to the lead: "
    + "its parameters are the templates' click macros.",
  security: [],
  responses: asResponses({
    200: html("`click_link.mode: page`: the \"Open in Telegram\" page (a click was recorded)", openInTelegramPage("spring_bot", "spring-Xk3vQ9aLm2Tb")),
    302: REDIRECT,
    404: html("No such click link: unknown campaign, `click_link.mode: off`, or a campaign without a bot", refusalPage(REFUSAL_WORDS.unknown_campaign.title, REFUSAL_WORDS.unknown_campaign.text)),
    410: html("The campaign is paused", refusalPage(REFUSAL_WORDS.campaign_paused.title, REFUSAL_WORDS.campaign_paused.text)),
    503: html("The campaign's bot has not answered getMe yet (its username is unknown), or the click could not be stored; Retry-After says when to try again", refusalPage(REFUSAL_WORDS.bot_not_connected.title, REFUSAL_WORDS.bot_not_connected.text)),
  }),
};
