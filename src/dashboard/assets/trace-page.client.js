// @ts-check
// Trace: one click or subscriber — its Starts (raw payload and length), the campaign matched or
// why not, its leads with their joins and leaves, each postback with its attempts, and in words
// why nothing was sent (GET /api/trace).
import { api, qs } from "./api.client.js";
import { leadColumns } from "./leads-pages.client.js";
import { postbackTable } from "./postbacks-page.client.js";
import { badge, breakable, detailList, formValues, h, table, time } from "./ui.client.js";

/** @typedef {import("./app.client.js").PageContext} PageContext */

/** @param {PageContext} ctx */
export async function tracePage(ctx) {
  const P = ctx.params;
  const click = P.get("click") ?? "";
  const subscriber = P.get("subscriber") ?? "";
  const by = subscriber ? "subscriber" : "click";
  const value = subscriber || click;
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "controls", onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    const { by: field, value: text } = formValues(form);
    ctx.go("trace", { [field || "click"]: text, tz: P.get("tz") ?? undefined });
  } },
  h("label", null, "Trace a", h("select", { name: "by" }, ["click", "subscriber"].map((o) => h("option", { value: o, selected: o === by }, o)))),
  h("label", null, "Click id or Telegram user id", h("input", { name: "value", value, size: 36, type: "search", required: true })),
  h("button", { type: "submit" }, "Trace")));
  const page = h("div", null, h("h1", null, "Trace"), form);
  if (!value) {
    page.append(h("p", { class: "muted" }, "Why didn't this click convert? Give a click id or a subscriber's Telegram id: every Start that carried it, the lead, its joins and leaves, each postback with its attempts, and why nothing was sent."));
    return page;
  }
  const t = await api("GET", `/api/trace${qs(subscriber ? { subscriber } : { click })}`);
  page.append(
    h("p", { dataset: { sent: String(t.sent) } }, t.sent ? badge("delivered") : badge("skipped"), " ", t.sent ? "A postback of it reached the tracker." : "No tracker postback of it was delivered."),
    t.explanation.length ? h("ol", { class: "findings", dataset: { findings: "" } },
      t.explanation.map((/** @type {any} */ f) => h("li", null, h("span", { class: "about" }, f.about), f.text))) : null,
    h("h2", null, "Starts"),
    table([
      ["When", (s) => time(s.at, ctx.tz)],
      ["Subscriber", (s) => s.subscriber ?? "—"],
      ["Payload", (s) => (s.payload === null ? h("span", { class: "muted" }, "bare /start") : h("span", { class: "mono" }, breakable(s.payload)))],
      ["Length", (s) => s.payload_length ?? "—", { num: true }],
      ["Outcome", (s) => badge(s.outcome === "lead" ? "delivered" : "rejected")],
      ["Campaign", (s) => s.campaign ?? "—"],
      ["Why", (s) => s.reason ?? (s.lead ? h("a", { href: `#/lead/${s.lead}` }, `lead ${s.lead}`) : "")],
    ], t.starts, { empty: "No Start carried it." }),
  );
  for (const l of t.leads) {
    page.append(
      h("h2", null, `Lead ${l.lead.id} in ${l.campaign.code}`, l.campaign.paused ? " " : "", l.campaign.paused ? badge("paused") : ""),
      table(leadColumns(ctx.tz), [l.lead]),
      table([
        ["When", (e) => time(e.occurred_at, ctx.tz)],
        ["Status", (e) => badge(e.status)],
        ["From", (e) => e.prev_status ?? "—"],
        ["Source", (e) => e.source],
        ["Reason", (e) => e.reason ?? ""],
        ["Invite link", (e) => (e.invite_link ? breakable(e.invite_link) : "")],
      ], l.events),
      postbackTable(l.postbacks.map((/** @type {any} */ p) => p.postback), ctx.tz),
    );
  }
  if (t.journal.length) {
    page.append(h("h2", null, "Journal"), table([
      ["When", (j) => time(j.created_at, ctx.tz)],
      ["Kind", (j) => j.kind],
      ["Campaign", (j) => j.campaign ?? "—"],
      ["Detail", (j) => detailList(j.detail, ctx.tz)],
    ], t.journal));
  }
  return page;
}
