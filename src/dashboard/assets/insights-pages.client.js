// @ts-check
// What the buyer paid for (issue 22): retention cohorts per campaign (GET /api/retention) as a
// table and a curve, in the page's time zone.
import { api, qs } from "./api.client.js";
import { dailyChart } from "./chart.client.js";
import { periodControls, periodOf } from "./stats-pages.client.js";
import { addDays, h, num, pct, select, table } from "./ui.client.js";

/** @typedef {import("./app.client.js").PageContext} PageContext */

const COLORS = ["#1d4ed8", "#12805c", "#c0262d", "#7a5af8", "#b45309", "#0e7490"];
const GROUPINGS = /** @type {Record<string, string>} */ ({ none: "campaign", variant: "welcome variant", quality: "quality band" });

/** @param {any} g a group's name as the API gives it @param {string} by */
const groupName = (g, by) => (by === "none" ? "All subscribers" : by === "variant" ? (g === "" ? "plain welcome" : `variant ${g}`) : `quality ${g}`);

/** "72 % (29)", or — while the day has not come for the whole cohort. @param {{ retained: number | null, share: number | null }} f */
const cell = (f) => (f.retained === null ? h("span", { class: "muted", title: "not every member has reached this day yet" }, "—") : `${pct(f.share)} (${num(f.retained)})`);

/** The chart's box width, as the overview's chart takes it. */
function chartWidth() {
  const main = document.getElementById("main");
  const style = main ? getComputedStyle(main) : null;
  return main && style ? main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 34 : 900;
}

/** @param {PageContext} ctx */
export async function retentionPage(ctx) {
  // Cohorts need time to age: 30 days back by default.
  const p = ctx.params.get("from") ? periodOf(ctx) : { ...periodOf(ctx), from: addDays(periodOf(ctx).to, -29) };
  const by = ctx.params.get("by") || "none";
  const campaign = ctx.params.get("campaign") || undefined;
  const [r, configured] = await Promise.all([
    api("GET", `/api/retention${qs({ tz: p.tz, since: p.from, until: addDays(p.to, 1), campaign, by })}`),
    api("GET", "/api/campaigns"),
  ]);
  const pick = h("form", { class: "controls", onchange: (/** @type {Event} */ e) => {
    const form = /** @type {HTMLFormElement} */ (/** @type {HTMLSelectElement} */ (e.target).form);
    const data = new FormData(form);
    ctx.go("retention", { tz: ctx.params.get("tz") ?? undefined, from: p.from, to: p.to, campaign: String(data.get("campaign") ?? "") || undefined, by: String(data.get("by") ?? "") || undefined });
  } },
  h("label", null, "Campaign", select("campaign", configured.items.map((/** @type {any} */ c) => c.code), campaign ?? null, "all")),
  h("label", null, "Split by", select("by", ["variant", "quality"], by === "none" ? null : by, "campaign only")));
  const sections = r.campaigns.flatMap((/** @type {any} */ c) => [
    h("h2", null, `${c.campaign}${GROUPINGS[by] && by !== "none" ? ` by ${GROUPINGS[by]}` : ""}`),
    c.groups.length ? dailyChart(r.days_after.map(String), c.groups.map((/** @type {any} */ g, /** @type {number} */ i) => ({
      key: `${c.campaign}-${g.group || "plain"}`, name: groupName(g.group, by), color: COLORS[i % COLORS.length],
      values: g.total.filter((/** @type {any} */ t) => t.share !== null).map((/** @type {any} */ t) => Math.round(t.share * 1000) / 10),
    })), chartWidth(), (d) => `day ${d}`, 100) : null,
    ...c.groups.map((/** @type {any} */ g) => h("div", { class: "cohorts", dataset: { campaign: c.campaign, group: g.group } },
      h("h3", null, groupName(g.group, by)),
      table([
        ["First join", (row) => row.day],
        ["Joined", (row) => num(row.joined), { num: true }],
        ...r.days_after.map((/** @type {number} */ n, /** @type {number} */ i) => /** @type {[string, (row: any) => any, { num: boolean }]} */ ([`Day ${n}`, (row) => cell(row.retention[i]), { num: true }])),
      ], [...g.cohorts, { day: "All cohorts", joined: g.cohorts.reduce((/** @type {number} */ s, /** @type {any} */ x) => s + x.joined, 0), retention: g.total }]))),
  ]);
  return h("div", null,
    h("h1", null, "Retention"),
    h("p", { class: "muted" }, "Of the subscribers who first joined on a day, the share still in the chat 1, 7, 14 and 30 days (× 24 h) later. A leave or a ban counts, also outside the unsubscribe window; a re-join brings them back. A dash (—): that day has not come yet for every member of the cohort. The curve is the share per day after the join over the cohorts old enough."),
    periodControls(ctx, p),
    pick,
    sections.length ? sections : h("p", { class: "muted" }, "No joins in this period."));
}

/**
 * An amount for reading: 2 decimals, 4 below 0.1 (a cost per subscriber of a few cents); the API
 * keeps millionths. @param {string | null} amount
 */
const round = (amount) => {
  if (amount === null) return "—";
  const n = Number(amount);
  return Math.abs(n) < 0.1 && n !== 0 ? n.toFixed(4) : n.toFixed(2);
};

/** "12.50 USD", or — . @param {string | null} amount @param {string} currency */
const cash = (amount, currency) => (amount === null ? "—" : `${round(amount)}${currency ? ` ${currency}` : ""}`);

/** The CSV upload: a file's lines of campaign,date,amount,currency; all or nothing. @param {() => void} done */
function costUpload(done) {
  const file = /** @type {HTMLInputElement} */ (h("input", { type: "file", name: "costs", accept: ".csv,text/csv,text/plain" }));
  const result = h("p", { class: "upload-result", role: "status" });
  const form = h("form", { class: "controls", onsubmit: async (/** @type {Event} */ e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return void (result.textContent = "Choose a CSV file first.");
    try {
      const r = await api("POST", "/api/costs/csv", { csv: await chosen.text() });
      result.className = "upload-result ok";
      result.textContent = `${r.written} cost line${r.written === 1 ? "" : "s"} written.`;
      done();
    } catch (err) {
      result.className = "upload-result error";
      result.textContent = /** @type {Error} */ (err).message;
    }
  } },
  h("label", null, "Costs CSV (campaign,date,amount,currency)", file),
  h("button", { type: "submit" }, "Upload"));
  return h("div", { class: "card" }, form, result);
}

/** @param {PageContext} ctx */
export async function moneyPage(ctx) {
  const p = periodOf(ctx);
  const campaign = ctx.params.get("campaign") || undefined;
  const m = await api("GET", `/api/money${qs({ tz: p.tz, since: p.from, until: addDays(p.to, 1), campaign })}`);
  const sections = m.campaigns.flatMap((/** @type {any} */ c) => [
    h("h2", null, c.campaign),
    table([
      ["Currency", (t) => t.currency || "(none)"],
      ["Revenue", (t) => round(t.revenue), { num: true }],
      ["Cost", (t) => round(t.cost), { num: true }],
      ["Difference", (t) => round(t.difference), { num: true }],
      ["Subscribers", (t) => num(t.subscribers), { num: true }],
      ["Cost / subscriber", (t) => round(t.cost_per_subscriber), { num: true }],
      ["Still there on day 7", (t) => num(t.retained_7), { num: true }],
      ["Cost / subscriber on day 7", (t) => round(t.cost_per_retained_7), { num: true }],
    ], c.totals, { empty: "No revenue or cost in this period." }),
    table([
      ["Day", (d) => d.day],
      ["Subscribers", (d) => num(d.subscribers), { num: true }],
      ["Day 7", (d) => num(d.retained_7), { num: true }],
      ["Revenue", (d) => (d.revenue.length ? d.revenue.map((/** @type {any} */ r) => cash(r.amount, r.currency)).join(" · ") : "—"), { num: true }],
      ["Cost", (d) => (d.cost ? cash(d.cost.amount, d.cost.currency) : "—"), { num: true }],
      ["Cost / subscriber", (d) => (d.cost ? cash(d.cost_per_subscriber, d.cost.currency) : "—"), { num: true }],
      ["Cost / day-7 subscriber", (d) => (d.cost ? cash(d.cost_per_retained_7, d.cost.currency) : "—"), { num: true }],
      ["Difference", (d) => (d.cost ? cash(d.difference, d.cost.currency) : "—"), { num: true }],
    ], c.days, { empty: "No subscribers, revenue or cost in this period." }),
  ]);
  return h("div", null,
    h("h1", null, "Money"),
    h("p", { class: "muted" }, "Revenue: the payouts reported (per status in the campaign's payouts, or an inbound postback's). Cost: entered per day here (CSV), through PUT /api/costs/{campaign}/{date}, or in the config. Subscribers: first joins of the day. Each currency apart: a difference is shown in the cost's currency only."),
    periodControls(ctx, p),
    costUpload(() => ctx.go("money", { tz: ctx.params.get("tz") ?? undefined, from: p.from, to: p.to, campaign, t: String(Date.now()) })),
    sections.length ? sections : h("p", { class: "muted" }, "No campaigns."));
}

/**
 * A campaign's funnel per welcome variant and per quality band (GET /api/stats by_variant, by_quality).
 * @param {any} totals the campaign's entry of GET /api/stats
 */
export function segmentTables(totals) {
  if (!totals?.by_variant) return null;
  /** @param {string} label @param {any[]} rows @param {(g: string) => string} name */
  const part = (label, rows, name) => h("div", { class: "segments", dataset: { segments: label } },
    h("h3", null, label),
    table([
      ["", (r) => name(r.group)],
      ["Starts", (r) => num(r.starts), { num: true }],
      ["Joins", (r) => num(r.joins), { num: true }],
      ["Start → join", (r) => pct(r.joins_per_start), { num: true }],
      ["Day-7 retention", (r) => (r.day7_retained === null ? "—" : `${pct(r.day7_retention)} (${num(r.day7_retained)} of ${num(r.day7_cohort)})`), { num: true }],
    ], rows, { empty: "No Starts or joins in this period." }));
  return h("div", null,
    h("h2", null, "By welcome variant and quality"),
    part("By welcome variant", totals.by_variant, (g) => (g === "" ? "plain welcome" : g)),
    part("By quality band", totals.by_quality, (g) => g));
}
