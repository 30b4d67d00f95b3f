// @ts-check
// The journal (what is not a lead event: organic joins, ignored events, rejected Starts, updates
// that could not be applied, …) and the inbound postback log, with times in the chosen zone and
// each entry's detail as lines a person reads.
import { api, qs } from "./api.client.js";
import { badge, detailList, formValues, h, select, table, time } from "./ui.client.js";

/** @typedef {import("./app.client.js").PageContext} PageContext */

/** The journal's kinds, as the service writes them. */
const KINDS = ["organic_join", "organic_join_applied", "event_ignored", "start_rejected", "update_failed", "bot_blocked", "untracked_chat", "alert_sent_directly"];
const RESULTS = ["ok", "no-changes", "access", "no-click", "bad-click", "bad-status", "db"];

/** @param {PageContext} ctx */
export async function journalPage(ctx) {
  const tab = ctx.params.get("tab") === "inbound" ? "inbound" : "activity";
  const filter = ctx.params.get("filter") || undefined;
  const before = ctx.params.get("before") || undefined;
  const tz = ctx.params.get("tz") ?? undefined;
  const tabs = h("div", { class: "row controls" },
    h("a", { href: `#/journal${qs({ tz })}`, class: tab === "activity" ? "badge ok" : "badge" }, "Activity"),
    h("a", { href: `#/journal${qs({ tab: "inbound", tz })}`, class: tab === "inbound" ? "badge ok" : "badge" }, "Inbound postbacks"));
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "controls", onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    ctx.go("journal", { tab, tz, ...formValues(form) });
  } },
  h("label", null, tab === "activity" ? "Kind" : "Result", select("filter", tab === "activity" ? KINDS : RESULTS, filter ?? null)),
  h("button", { type: "submit" }, "Show")));
  let list;
  let view;
  if (tab === "activity") {
    list = await api("GET", `/api/journal${qs({ kind: filter, before, limit: 100 })}`);
    view = table([
      [`When (${ctx.tz})`, (j) => time(j.created_at, ctx.tz)],
      ["Kind", (j) => j.kind],
      ["Campaign", (j) => j.campaign ?? ""],
      ["Subscriber", (j) => j.subscriber ?? ""],
      ["Chat", (j) => j.chat ?? ""],
      ["Detail", (j) => detailList(j.detail, ctx.tz)],
    ], list.items, { empty: "Nothing in the journal.", rowAttrs: (j) => ({ dataset: { journal: String(j.id), kind: j.kind } }) });
  } else {
    list = await api("GET", `/api/postback-log${qs({ result: filter, before, limit: 100 })}`);
    view = table([
      [`When (${ctx.tz})`, (r) => time(r.created_at, ctx.tz)],
      ["Result", (r) => badge(r.result === "ok" ? "ok" : r.result === "no-changes" ? r.result : "error")],
      ["Code", (r) => r.result],
      ["Lead", (r) => (r.lead ? h("a", { href: `#/lead/${r.lead}` }, r.lead) : "")],
      ["Status", (r) => r.status ?? ""],
      ["Parameters", (r) => detailList(r.params, ctx.tz)],
      ["From", (r) => r.ip ?? ""],
    ], list.items, { empty: "No inbound postbacks." });
  }
  const older = list.next_before ? h("button", { type: "button", class: "secondary", onclick: () => ctx.go("journal", { tab, filter, tz, before: String(list.next_before) }) }, "Older") : null;
  return h("div", null, h("h1", null, "Journal"), tabs, form, view, h("p", null, older));
}
