// @ts-check
// Leads: search by subscriber id, click or @username (each from an index), filters by campaign,
// status and creation date, the filter's export; a lead's events and postbacks, and its trace.
import { api, qs } from "./api.client.js";
import { postbackTable, exportLinks } from "./postbacks-page.client.js";
import { joinRequestButtons, qualityPanel } from "./quality.client.js";
import { addDays, badge, breakable, formValues, h, midnight, select, table, time } from "./ui.client.js";

/** @typedef {import("./app.client.js").PageContext} PageContext */

const STATUSES = ["wait", "hold", "approve", "cancel", "trash"];

export const leadColumns = (/** @type {string} */ tz) => /** @type {[string, (l: any) => any, any?][]} */ ([
  ["ID", (l) => h("a", { href: `#/lead/${l.id}` }, l.id), { num: true }],
  ["Campaign", (l) => l.campaign],
  ["Subscriber", (l) => l.subscriber],
  ["Username", (l) => (l.username ? `@${l.username}` : "")],
  ["Click", (l) => h("span", { class: "mono" }, breakable(l.click))],
  ["Status", (l) => badge(l.status)],
  ["Created", (l) => time(l.created_at, tz)],
  ["Updated", (l) => time(l.updated_at, tz)],
  ["Quality", (l) => (l.quality === null ? "—" : String(l.quality)), { num: true }],
]);

/** @param {PageContext} ctx */
export async function leadsPage(ctx) {
  const P = ctx.params;
  const q = (P.get("q") ?? "").trim();
  const field = P.get("field") || "any";
  // Filters served by indexes: campaign, status, and the creation date in the chosen zone.
  const filter = {
    campaign: P.get("campaign") || undefined, status: P.get("status") || undefined,
    since: P.get("from") ? midnight(ctx.tz, /** @type {string} */ (P.get("from"))) : undefined,
    until: P.get("to") ? midnight(ctx.tz, addDays(/** @type {string} */ (P.get("to")), 1)) : undefined,
  };
  const campaigns = await api("GET", "/api/campaigns");
  let items;
  let older = null;
  if (q) {
    // One query per field that the text can be (each served by an index), merged newest first.
    const asks = [];
    if ((field === "any" || field === "subscriber") && /^-?\d{1,16}$/.test(q)) asks.push({ subscriber: q });
    if (field === "any" || field === "click") asks.push({ click: q });
    if ((field === "any" || field === "username") && /^@?[A-Za-z0-9_]{1,64}$/.test(q)) asks.push({ username: q });
    const found = await Promise.all(asks.map((a) => api("GET", `/api/leads${qs({ ...a, ...filter, limit: 100 })}`)));
    const byId = new Map(found.flatMap((f) => f.items).map((/** @type {any} */ l) => [l.id, l]));
    items = [...byId.values()].sort((a, b) => b.id - a.id);
  } else {
    const list = await api("GET", `/api/leads${qs({ ...filter, before: P.get("before"), limit: 50 })}`);
    items = list.items;
    if (list.next_before) older = h("button", { type: "button", class: "secondary", onclick: () => ctx.go("leads", { ...Object.fromEntries(P), before: String(list.next_before) }) }, "Older");
  }
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "controls", onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    ctx.go("leads", { ...formValues(form), tz: P.get("tz") ?? undefined });
  } },
  h("label", null, "Subscriber, click or @username", h("input", { name: "q", value: q, size: 28, autofocus: true, type: "search" })),
  h("label", null, "In", select("field", ["subscriber", "click", "username"], field === "any" ? null : field, "any field")),
  h("label", null, "Campaign", select("campaign", campaigns.items.map((/** @type {any} */ c) => c.code), P.get("campaign"))),
  h("label", null, "Status", select("status", STATUSES, P.get("status"))),
  h("label", null, `Created from (${ctx.tz})`, h("input", { type: "date", name: "from", value: P.get("from") ?? "" })),
  h("label", null, "To", h("input", { type: "date", name: "to", value: P.get("to") ?? "" })),
  h("button", { type: "submit" }, "Search")));
  const exported = { ...filter, ...(q && field !== "any" ? { [field]: q } : {}) };
  return h("div", null, h("h1", null, "Leads"), form, h("div", { class: "row bulk" }, exportLinks("leads", exported)),
    table(leadColumns(ctx.tz), items, { empty: q ? "No lead matches." : "No leads match." }), h("p", null, older));
}

/** @param {PageContext} ctx */
export async function leadPage(ctx) {
  const { lead, profile, events, postbacks } = await api("GET", `/api/leads/${encodeURIComponent(ctx.arg ?? "")}`);
  return h("div", null,
    h("h1", null, `Lead ${lead.id}`),
    h("p", null, h("a", { href: `#/trace?subscriber=${lead.subscriber}` }, "Trace this subscriber"), lead.click ? " · " : "",
      lead.click ? h("a", { href: `#/trace?click=${encodeURIComponent(lead.click)}` }, "Trace this click") : ""),
    table(leadColumns(ctx.tz), [lead]),
    joinRequestButtons(lead, () => setTimeout(() => ctx.go("lead/" + lead.id, { t: String(Date.now()) }), 1500)),
    h("h2", null, "Quality"),
    qualityPanel(profile),
    h("h2", null, "Events"),
    table([
      ["ID", (e) => e.id, { num: true }],
      ["When", (e) => time(e.occurred_at, ctx.tz)],
      ["Status", (e) => badge(e.status)],
      ["From", (e) => e.prev_status ?? "—"],
      ["Source", (e) => e.source],
      ["Reason", (e) => e.reason ?? ""],
      ["Invite link", (e) => (e.invite_link ? breakable(e.invite_link) : "")],
    ], events),
    h("h2", null, "Postbacks"),
    postbackTable(postbacks, ctx.tz));
}
