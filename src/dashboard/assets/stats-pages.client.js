// @ts-check
// Overview and campaign pages: the funnel of a period in a time zone (GET /api/stats), the chart
// of joins and leaves per day, and a campaign's link, health and rendered templates.
import { api, qs } from "./api.client.js";
import { dailyChart } from "./chart.client.js";
import { segmentTables } from "./insights-pages.client.js";
import { addDays, badge, botState, breakable, fill, h, num, pct, table, today, zones } from "./ui.client.js";

/** @typedef {import("./app.client.js").PageContext} PageContext */

const STATUSES = ["wait", "hold", "approve", "cancel", "trash"];
const STEPS = [["wait", "Starts"], ["hold", "Join requests"], ["approve", "Joins"], ["cancel", "Leaves"], ["trash", "Bans"]];
const OUTCOMES = ["delivered", "pending", "failed", "rejected", "skipped"];
/**
 * The conversion rates of GET /api/stats (unique leads of the period, step to step). Request → join
 * counts the joins that came through a request (join_requests_approved ÷ requests), not every join.
 */
const RATES = [
  ["joins_per_start", "Start → join"], ["join_requests_per_start", "Start → request"], ["join_requests_approved_per_join_request", "Request → join"],
  ["leaves_per_join", "Join → leave"], ["bans_per_join", "Join → ban"],
];

/** The period of the page: from/to are local dates (inclusive) in tz; 7 days up to today by default. @param {PageContext} ctx */
export function periodOf(ctx) {
  const to = ctx.params.get("to") || today(ctx.tz);
  const from = ctx.params.get("from") || addDays(to, -6);
  return { tz: ctx.tz, from, to };
}

const PRESETS = [["today", 0], ["7d", 6], ["30d", 29], ["90d", 89]];

/** Zone and period pickers; a change navigates to the same page with the new period. @param {PageContext} ctx @param {{ tz: string, from: string, to: string }} p */
export function periodControls(ctx, p) {
  const navigate = (/** @type {Record<string, string>} */ next) => ctx.go(ctx.arg ? `${ctx.route}/${encodeURIComponent(ctx.arg)}` : ctx.route, { tz: ctx.params.get("tz") ?? undefined, from: p.from, to: p.to, group: ctx.params.get("group") ?? undefined, ...next });
  const tz = /** @type {HTMLInputElement} */ (h("input", { name: "tz", value: p.tz, list: "zones", size: 22, "aria-label": "Time zone" }));
  const from = /** @type {HTMLInputElement} */ (h("input", { type: "date", name: "from", value: p.from }));
  const to = /** @type {HTMLInputElement} */ (h("input", { type: "date", name: "to", value: p.to }));
  const form = h("form", { class: "controls", onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    navigate({ tz: tz.value.trim(), from: from.value, to: to.value });
  } },
  h("label", null, "Time zone", tz, h("datalist", { id: "zones" }, zones().map((z) => h("option", { value: z })))),
  h("label", null, "From", from),
  h("label", null, "To", to),
  h("button", { type: "submit" }, "Show"),
  h("div", { class: "row" }, PRESETS.map(([name, back]) => {
    const end = today(p.tz);
    return h("button", { type: "button", class: "secondary", dataset: { preset: name }, onclick: () => navigate({ from: addDays(end, -Number(back)), to: end }) }, name === "today" ? "Today" : `Last ${name}`);
  })));
  return form;
}

/** @param {string} label @param {any} value @param {string} metric @param {any} [sub] */
const stat = (label, value, metric, sub) => h("div", { class: "card stat", dataset: { metric } }, h("div", { class: "value" }, value), h("div", { class: "label" }, label), sub ? h("div", { class: "sub" }, sub) : null);

/** Funnel cards (unique leads per step, events beside) and postback outcomes. @param {any} s @param {(state: string) => string} link */
function funnel(s, link) {
  return h("div", { class: "cards" },
    STEPS.map(([status, label]) => stat(label, num(s.leads[status]), status, `${num(s.events[status])} events`)),
    RATES.map(([key, label]) => stat(label, pct(s.rates[key]), key)),
    OUTCOMES.map((o) => stat(`Postbacks ${o}`, h("a", { href: link(o) }, num(s.postbacks[o])), `postbacks_${o}`)));
}

/** Joins, leaves and bans per day of the period (lead events), summed over the given items. @param {string[]} days @param {any[]} items */
function chartOf(days, items) {
  const per = (/** @type {string} */ status) => days.map((d) => items.filter((i) => i.day === d).reduce((sum, i) => sum + i[status], 0));
  // The chart's box: main's content width less the card's padding and border (at most 16 px and 1 px a side).
  const main = document.getElementById("main");
  const style = main ? getComputedStyle(main) : null;
  const width = main && style ? main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 34 : 900;
  return dailyChart(days, [
    { key: "joins", name: "Joins", color: "#12805c", values: per("approve") },
    { key: "leaves", name: "Leaves", color: "#c0262d", values: per("cancel") },
    { key: "bans", name: "Bans", color: "#7a5af8", values: per("trash") },
  ], width);
}

/** @param {{ tz: string, from: string, to: string }} p @param {string} [campaign] @param {string} [group] */
const statsQuery = (p, campaign, group) => qs({ tz: p.tz, since: p.from, until: addDays(p.to, 1), campaign, group });

/**
 * "Group by": the funnel per value of a click parameter (GET /api/stats?group=), for the leads that
 * came through the click link; the choice is kept in the page's address (?group=).
 * @param {PageContext} ctx @param {{ tz: string, from: string, to: string }} p @param {string | undefined} group @param {any} s
 */
function groupSection(ctx, p, group, s) {
  const select = /** @type {HTMLSelectElement} */ (h("select", { name: "group", "aria-label": "Group by a click parameter" },
    h("option", { value: "" }, "—"), ctx.clickGroups.map((g) => h("option", { value: g, selected: g === group }, g))));
  select.addEventListener("change", () => ctx.go(ctx.route, { tz: ctx.params.get("tz") ?? undefined, from: p.from, to: p.to, group: select.value || undefined }));
  const controls = h("div", { class: "controls" }, h("label", null, "Group by", select));
  if (!group || !s.group) return h("div", { class: "group-by" }, h("h2", null, "By click parameter"), controls, h("p", { class: "muted" }, ctx.clickGroups.length
    ? "Choose a parameter of the click link (utm_source, utm_campaign, sub1…) to see which ads brought the subscribers who joined."
    : "No click parameter is counted (dashboard.click_groups is empty)."));
  const g = s.group;
  const rows = [
    ...g.values.map((/** @type {any} */ v) => ({ ...v, label: v.value })),
    ...(g.others ? [{ ...g.others, label: `${num(g.others.values)} other values` }] : []),
    { ...g.without, label: `(no ${g.param})` },
  ];
  return h("div", { class: "group-by" },
    h("h2", null, `By ${g.param}`), controls,
    table([
      [g.param, (r) => h("span", { class: "mono", dataset: { groupValue: r.label } }, breakable(r.label))],
      ...STEPS.map(([status, label]) => /** @type {[string, (r: any) => any, { num: boolean }]} */ ([label, (r) => h("span", { dataset: { metric: status } }, num(r.leads[status])), { num: true }])),
      ["Start → join", (r) => pct(r.rates.joins_per_start), { num: true }],
      ["Join → leave", (r) => pct(r.rates.leaves_per_join), { num: true }],
    ], rows, { rowAttrs: (r) => ({ dataset: { group: r.label } }) }));
}

/** @param {{ tz: string, from: string, to: string }} p @param {string} state @param {string} [campaign] */
const postbacksLink = (p, state, campaign) => `#/postbacks${qs({ state, campaign, tz: p.tz, from: p.from, to: p.to })}`;

/** @param {PageContext} ctx */
export async function overviewPage(ctx) {
  const p = periodOf(ctx);
  const wanted = ctx.params.get("group") ?? "";
  const group = ctx.clickGroups.includes(wanted) ? wanted : undefined;
  const [s, configured] = await Promise.all([api("GET", `/api/stats${statsQuery(p, undefined, group)}`), api("GET", "/api/campaigns")]);
  const paused = new Set(configured.items.filter((/** @type {any} */ c) => c.paused).map((/** @type {any} */ c) => c.code));
  const cell = (/** @type {any} */ c, /** @type {string} */ metric, /** @type {any} */ value) => h("span", { dataset: { campaign: c.campaign, metric } }, value);
  return h("div", null,
    h("h1", null, "Overview"),
    periodControls(ctx, p),
    h("p", { class: "muted" }, `${p.from} – ${p.to}, ${s.timezone}. Leads counted at their first event of each step in the period.`),
    funnel(s.totals, (o) => postbacksLink(p, o)),
    h("h2", null, "Joins and leaves per day"),
    chartOf(s.days, s.items),
    groupSection(ctx, p, group, s),
    h("h2", null, "Campaigns"),
    table([
      ["Campaign", (c) => h("span", null,
        h("a", { href: `#/campaign/${encodeURIComponent(c.campaign)}${qs({ tz: ctx.params.get("tz"), from: p.from, to: p.to })}` }, c.campaign, c.in_config ? "" : " (removed)"),
        paused.has(c.campaign) ? [" ", h("span", { class: "badge paused", dataset: { paused: c.campaign } }, "paused")] : null)],
      ...STEPS.map(([status, label]) => /** @type {[string, (c: any) => any, { num: boolean }]} */ ([label, (c) => cell(c, status, num(c.leads[status])), { num: true }])),
      ["Start → join", (c) => cell(c, "joins_per_start", pct(c.rates.joins_per_start)), { num: true }],
      ["Join → leave", (c) => cell(c, "leaves_per_join", pct(c.rates.leaves_per_join)), { num: true }],
      ...OUTCOMES.map((o) => /** @type {[string, (c: any) => any, { num: boolean }]} */ ([`PB ${o}`, (c) => cell(c, `postbacks_${o}`, h("a", { href: postbacksLink(p, o, c.campaign) }, num(c.postbacks[o]))), { num: true }])),
    ], s.campaigns, { empty: "No campaigns configured." }));
}

/** Seconds as the config writes them (30d, 12h, 90s); 0: the window never closes. @param {number} s */
function duration(s) {
  if (!s) return "never closes";
  for (const [unit, n] of [["d", 86400], ["h", 3600], ["m", 60]]) if (s % Number(n) === 0) return `${s / Number(n)}${unit}`;
  return `${s}s`;
}

/** Copies text, also where the Clipboard API is missing (plain http on another host). @param {string} text */
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = /** @type {HTMLTextAreaElement} */ (h("textarea", { style: "position:fixed;opacity:0" }, text));
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

/** @param {PageContext} ctx */
export async function campaignPage(ctx) {
  const code = ctx.arg ?? "";
  const p = periodOf(ctx);
  const [campaigns, bots, s] = await Promise.all([api("GET", "/api/campaigns"), api("GET", "/api/bots"), api("GET", `/api/stats${statsQuery(p, code)}`)]);
  const c = campaigns.items.find((/** @type {any} */ x) => x.code === code);
  if (!c) return h("p", { class: "error" }, `No campaign "${code}" in the config.`);
  const rendered = await Promise.all(STATUSES.map((status) =>
    api("POST", `/api/campaigns/${encodeURIComponent(code)}/test`, { status, click: "sample-click", subscriber: 123456789, username: "sample_user" })));
  const bot = bots.items.find((/** @type {any} */ b) => b.name === c.bot);
  const totals = s.campaigns.find((/** @type {any} */ x) => x.campaign === code) ?? s.totals;

  const copied = h("span", { class: "notice", role: "status" });
  const link = c.deep_link ?? null;
  const deepLink = link
    ? h("div", { class: "deeplink" }, h("code", { id: "deep-link" }, link), h("button", { type: "button", onclick: async () => {
      await copy(link);
      fill(copied, "Copied");
    } }, "Copy"), copied)
    : h("p", { class: "muted" }, c.bot ? `Start payload ${c.start_payload}: the link appears once the bot has answered getMe.` : `No bot: leads come through POST /api/events or inbound postbacks (start payload ${c.start_payload}).`);

  const clickLink = c.click_link
    ? h("div", { class: "deeplink" }, h("code", { id: "click-link" }, c.click_link), h("button", { type: "button", onclick: async () => {
      await copy(c.click_link);
      fill(copied, "Copied");
    } }, "Copy"))
    : h("p", { class: "muted" }, c.bot ? "The click link is off (click_link.mode: off)." : "No click link: the campaign has no bot.");

  const botHealth = !c.bot ? h("span", { class: "muted" }, "no bot") : botState(bot, c.bot, ctx.tz);
  // What Telegram said of the chat is only known through a bot that is connected.
  const chatHealth = !c.bot_admin ? h("span", { class: "muted" }, "no chat tracked")
    : bot?.status !== "running" ? h("span", { class: "badge unknown", dataset: { health: "chat" } }, "unknown: the bot is not connected")
      : c.bot_admin.ok ? h("span", { class: "badge ok", dataset: { health: "chat" } }, "admin, rights ok")
        : h("span", { class: "badge missing", dataset: { health: "chat" } }, `missing: ${c.bot_admin.missing.join(", ")}`);

  return h("div", null,
    h("h1", null, c.name && c.name !== c.code ? `${c.name} (${c.code})` : c.code, c.paused ? [" ", h("span", { class: "badge paused", dataset: { paused: c.code } }, "paused")] : null),
    h("div", { class: "card" },
      h("h2", null, "Deep link"), deepLink,
      h("p", { class: "muted" }, `Put your tracker's click macro in place of {click} (at most ${c.max_click_length} characters).`),
      h("h2", null, "Click link"), clickLink,
      h("p", { class: "muted" }, `Without a tracker: use it as the ad's URL (add utm_*, sub1…5; fbclid, ttclid, gclid and yclid come from the ad platform). It records the click and sends the visitor to the bot${c.click_link_mode === "page" ? " through an \"Open in Telegram\" page" : ""}.`),
      h("h2", null, "Health"),
      table([["Bot", () => botHealth], ["Chat", () => chatHealth], ["Unsubscribe window", () => duration(c.unsub_window_s)], ["Templates", () => c.templates_from]], [c])),
    h("h2", null, "Funnel"),
    periodControls(ctx, p),
    funnel(totals, (o) => postbacksLink(p, o, code)),
    segmentTables(totals),
    h("h2", null, "Joins and leaves per day"),
    chartOf(s.days, s.items),
    h("h2", null, "Postbacks for a sample lead"),
    h("p", { class: "muted" }, "click sample-click, subscriber 123456789, @sample_user; not sent."),
    table([
      ["Status", (r) => badge(r.status)],
      ["Template", (r) => h("span", { class: "mono" }, breakable(r.template))],
      ["Request", (r) => h("div", { class: "mono" }, breakable(`${r.method} ${r.url}`), r.body ? h("pre", null, r.body) : null)],
    ], rendered.flatMap((r) => r.requests.map((/** @type {any} */ x) => ({ ...x, status: r.status }))), { empty: "No postback templates: this campaign sends nothing." }),
    testSend(code));
}

/**
 * "Send test postback": POST /api/campaigns/{code}/test with send: true for the chosen status; the
 * requests go to the tracker for real but are not recorded, and each answer is judged as the
 * dispatcher would.
 * @param {string} code
 */
function testSend(code) {
  const results = h("div", { class: "test-results", role: "status" });
  const status = /** @type {HTMLSelectElement} */ (h("select", { name: "test-status" }, STATUSES.map((s) => h("option", { value: s, selected: s === "approve" }, s))));
  const button = /** @type {HTMLButtonElement} */ (h("button", { type: "button", id: "send-test" }, "Send test postback"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    fill(results, h("span", { class: "muted" }, "Sending…"));
    try {
      const sent = await api("POST", `/api/campaigns/${encodeURIComponent(code)}/test`, { status: status.value, click: "test-click", subscriber: 123456789, username: "sample_user", send: true });
      fill(results, table([
        ["Outcome", (r) => badge(r.result?.outcome ?? "skipped")],
        ["HTTP", (r) => r.result?.http_status ?? "—", { num: true }],
        ["Request", (r) => h("span", { class: "mono" }, breakable(`${r.method} ${r.url}`))],
        ["Reason", (r) => r.result?.reason ?? ""],
        ["Answer", (r) => h("pre", null, r.result?.response_head ?? "")],
      ], sent.requests, { empty: `No ${status.value} template: nothing to send.`, rowAttrs: (r) => ({ dataset: { testOutcome: r.result?.outcome ?? "skipped" } }) }));
    } catch (err) {
      fill(results, h("span", { class: "error" }, /** @type {Error} */ (err).message));
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "card test-send" },
    h("h2", null, "Send test postback"),
    h("p", { class: "muted" }, "Sends this campaign's postbacks for the status to the tracker now (click test-click), judged as real ones; not recorded."),
    h("div", { class: "controls" }, h("label", null, "Status", status), button),
    results);
}
