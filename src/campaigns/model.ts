import { t } from "elysia";
import { Int } from "../http/schema.ts";
import { Nullable } from "../http/openapi.ts";

const TemplateJson = t.Object({ template: t.String(), method: t.String(), url: t.String({ description: "the template, macros in place" }) });
const PerStatus = <T extends Parameters<typeof t.Array>[0]>(item: T) =>
  t.Object({ wait: t.Array(item), hold: t.Array(item), approve: t.Array(item), cancel: t.Array(item), trash: t.Array(item) });

export const CampaignList = t.Object({
  items: t.Array(t.Object({
    code: t.String(), name: t.String(), bot: Nullable(t.String()), chat: Nullable(Int()), paused: t.Boolean(), unsub_window_s: t.Number(),
    start_payload: t.String({ description: "what follows ?start= in the deep link" }),
    deep_link: Nullable(t.String({ description: "https://t.me/BOT?start=CODE-{click}; null until the bot has answered getMe" })),
    max_click_length: Int({ description: "how long a tracker's click id may be in the deep link: 64 − the code's length − 1 (Telegram carries a Start payload of at most 64 characters)" }),
    click_link: Nullable(t.String({ description: "the click link GET /c/CODE (under server.public_url when set): records the click and sends the visitor to the bot; null without a bot or with click_link.mode off" })),
    click_link_mode: t.String({ description: "redirect | page | off" }),
    bot_admin: Nullable(t.Object({ ok: t.Boolean(), missing: t.Array(t.String({ description: "administrator, or a right such as can_invite_users" })) })),
    templates_from: t.String({ description: "campaign | global" }),
    templates: PerStatus(TemplateJson),
    payouts: t.Record(t.String(), t.Object({ payout: t.String(), currency: t.String() })),
    counters: t.Object({
      starts: Int(), confirms: Int(), unsubs: Int(),
      postbacks: t.Record(t.String(), Int(), { description: "all-time postbacks by state (only states with rows)" }),
    }),
  })),
});
const approve = { template: "destinations.kt.approve", method: "GET", url: "https://trk.example.com/e89bcbe/postback?subid={click}&status={status}&tid={lead}" };
export const campaignListExample = {
  items: [{
    code: "spring", name: "Spring channel", bot: "main", chat: -1001234567890, paused: false, unsub_window_s: 2592000, start_payload: "spring-{click}",
    deep_link: "https://t.me/spring_bot?start=spring-{click}", max_click_length: 57, click_link: "https://tg.example.com/c/spring", click_link_mode: "redirect", bot_admin: { ok: false, missing: ["can_invite_users"] }, templates_from: "global",
    templates: { wait: [], hold: [], approve: [approve], cancel: [], trash: [] }, payouts: { approve: { payout: "1.5", currency: "USD" } },
    counters: { starts: 120, confirms: 80, unsubs: 9, postbacks: { delivered: 199, failed: 1 } },
  }],
};

export const TestAnswer = t.Object({
  campaign: t.String(), status: t.String(), sent: t.Boolean(),
  requests: t.Array(t.Object({
    template: t.String(), method: t.String(), url: t.String(), body: Nullable(t.String()), contentType: Nullable(t.String()),
    result: t.Optional(t.Object({
      outcome: t.String({ description: "delivered | retry | rejected" }), reason: Nullable(t.String()), http_status: Nullable(Int()), response_head: Nullable(t.String()),
    }, { description: "only with send: true" })),
  })),
});
export const testAnswerExample = {
  campaign: "spring", status: "approve", sent: true,
  requests: [{
    template: "destinations.kt.approve", method: "GET", url: "https://trk.example.com/e89bcbe/postback?subid=test-click&status=approve&tid=0", body: null, contentType: null,
    result: { outcome: "delivered", reason: null, http_status: 200, response_head: "Success" },
  }],
};
