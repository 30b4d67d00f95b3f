// @ts-check
// Postbacks: filters, the lead's click, a host's circuit state ("paused until 23:50:13") on its
// pending rows and after Retry, the attempt log (numbered on across re-sends), Retry and bulk
// retry with its dry-run count, and the filter's export.
import { api, ApiError, qs } from "./api.client.js";
import { addDays, badge, breakable, clockTime, fill, formValues, h, midnight, num, select, table, time } from "./ui.client.js";

/** @typedef {import("./app.client.js").PageContext} PageContext */

const STATES = ["pending", "delivered", "failed", "rejected", "skipped"];
const RETRYABLE = ["failed", "rejected"];
const FINISHED = ["failed", "rejected", "skipped", "delivered"];
const STATUSES = ["wait", "hold", "approve", "cancel", "trash"];

/** The attempt log of one postback. @param {number} id @param {string} tz */
async function attemptLog(id, tz) {
  const { postback, attempts } = await api("GET", `/api/postbacks/${id}`);
  // The last attempt of a failed row was the ladder's last: it reads "failed", not "retry".
  const last = Math.max(0, ...attempts.map((/** @type {any} */ a) => a.attempt));
  const outcome = (/** @type {any} */ a) => (postback.state === "failed" && a.attempt === last && a.outcome === "retry" ? "failed" : a.outcome);
  return h("div", { dataset: { attempts: String(id) } },
    h("div", { class: "mono" }, breakable(`${postback.method} ${postback.url}`)),
    postback.body ? h("pre", null, postback.body) : null,
    table([
      ["#", (a) => h("span", { dataset: { attemptNumber: String(a.attempt) } }, a.attempt), { num: true }],
      ["Started", (a) => time(a.started_at, tz)],
      ["Outcome", (a) => h("span", { dataset: { outcome: outcome(a) } }, badge(outcome(a)))],
      ["HTTP", (a) => a.http_status ?? "—", { num: true }],
      ["ms", (a) => a.duration_ms, { num: true }],
      ["Error", (a) => a.error ?? ""],
      ["Response (first 1 KiB)", (a) => h("pre", null, a.response_head ?? "")],
    ], attempts, { empty: "No attempt yet." }));
}

/** "#12 cancel (delivered)" for rows named in a 409's details. @param {{id: number, status: string, state: string}} r */
const rowName = (r) => `#${r.id} ${r.status} (${r.state})`;

/** Hosts whose circuit is open, by host: until when. */
async function openCircuits() {
  const { items } = await api("GET", "/api/hosts");
  return new Map(items.filter((/** @type {any} */ x) => x.circuit === "open").map((/** @type {any} */ x) => [x.host, x.open_until]));
}

/** A row's state, and for a pending row of a paused host until when it waits. @param {any} p @param {Map<string, string>} open @param {string} tz */
function stateCell(p, open, tz) {
  const until = p.state === "pending" ? open.get(p.host) : undefined;
  return h("span", null, badge(p.state), until ? h("div", { class: "muted", dataset: { circuit: p.host } }, `host paused until ${clockTime(until, tz)}`) : null);
}

/**
 * Postbacks as a table: a click on a row opens its attempt log below it; failed and rejected rows
 * have a Retry button, which queues the row again and follows it to its new outcome. A row whose
 * lead has a later postback delivered to the same host is not sent alone (it would undo that status
 * at the tracker): the service refuses it (409 superseded) and the row asks first whether to send
 * it followed by the later ones.
 * @param {any[]} rows @param {string} tz @param {Map<string, string>} [open] hosts paused, until when
 */
export function postbackTable(rows, tz, open = new Map()) {
  /** @param {any} p */
  const retryCell = (p) => {
    if (!RETRYABLE.includes(p.state)) return "";
    const button = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "secondary", dataset: { retry: String(p.id) } }, "Retry"));
    /** @param {HTMLElement} tr @param {boolean} andLater */
    const send = async (tr, andLater) => {
      const reason = /** @type {HTMLElement} */ (tr.querySelector("[data-cell=reason]"));
      try {
        const { postback } = await api("POST", `/api/postbacks/${p.id}/retry`, andLater ? { and_later: true } : undefined);
        update(tr, postback, await openCircuits());
        for (let i = 0; i < 40 && postback.state === "pending"; i++) {
          await new Promise((r) => setTimeout(r, 250));
          const [fresh, circuits] = await Promise.all([api("GET", `/api/postbacks/${p.id}`), openCircuits()]);
          update(tr, fresh.postback, circuits);
          if (fresh.postback.state !== "pending") break;
        }
      } catch (err) {
        if (err instanceof ApiError && err.code === "superseded") return confirmSuperseded(tr, reason, err.details);
        fill(reason, h("span", { class: "error" }, /** @type {Error} */ (err).message));
        button.disabled = false;
      }
    };
    /** @param {HTMLElement} tr @param {HTMLElement} reason @param {any} details */
    const confirmSuperseded = (tr, reason, details) => {
      const later = /** @type {any[]} */ (details.and_later);
      fill(reason, h("div", { class: "confirm", dataset: { superseded: String(p.id) } },
        h("span", null, `Not sent: ${rowName(details.superseded_by)} of this lead came later. Sent alone, this ${p.status} would undo it at the tracker. `),
        h("button", { type: "button", dataset: { retryLater: String(p.id) }, onclick: () => {
          fill(reason, "");
          send(tr, true);
        } }, `Send #${p.id}, then ${later.map((r) => `#${r.id}`).join(", ")} again`), " ",
        h("button", { type: "button", class: "secondary", onclick: () => {
          fill(reason, p.reason ?? "");
          button.disabled = false;
        } }, "Cancel")));
    };
    button.addEventListener("click", () => {
      button.disabled = true;
      send(/** @type {HTMLElement} */ (button.closest("tr")), false);
    });
    return button;
  };
  /** @param {HTMLElement} tr @param {any} p @param {Map<string, string>} circuits */
  const update = (tr, p, circuits) => {
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=state]")), stateCell(p, circuits, tz));
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=attempts]")), String(p.earlier_attempts + p.attempts));
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=http]")), p.last_http_status ?? "—");
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=reason]")), p.reason ?? "");
    tr.dataset.state = p.state;
  };
  const cell = (/** @type {string} */ name, /** @type {any} */ value) => h("span", { dataset: { cell: name } }, value);
  return table([
    ["ID", (p) => p.id, { num: true }],
    ["Created", (p) => time(p.created_at, tz)],
    ["Campaign", (p) => p.campaign],
    ["Lead", (p) => (p.lead > 0 ? h("a", { href: `#/lead/${p.lead}` }, p.lead) : "—")],
    ["Click", (p) => (p.click ? h("a", { class: "mono", href: `#/trace?click=${encodeURIComponent(p.click)}`, dataset: { click: p.click } }, breakable(p.click)) : "—")],
    ["Status", (p) => badge(p.status)],
    ["Host", (p) => breakable(p.host)],
    ["State", (p) => cell("state", stateCell(p, open, tz))],
    // Attempts in all, re-sends included: the attempt log numbers them on.
    ["Attempts", (p) => cell("attempts", p.earlier_attempts + p.attempts), { num: true }],
    ["HTTP", (p) => cell("http", p.last_http_status ?? "—"), { num: true }],
    ["Reason", (p) => cell("reason", p.reason ?? "")],
    ["", retryCell],
  ], rows, {
    empty: "No postbacks match.",
    rowAttrs: (p) => ({ dataset: { postback: String(p.id), state: p.state } }),
    onRow: async (p, tr) => {
      const shown = tr.nextElementSibling?.classList.contains("detail") ? tr.nextElementSibling : null;
      if (shown) return shown.remove();
      const td = h("td", { colSpan: 12 }, h("span", { class: "muted" }, "Loading…"));
      tr.after(h("tr", { class: "detail" }, td));
      try {
        fill(td, await attemptLog(p.id, tz));
      } catch (err) {
        fill(td, h("span", { class: "error" }, /** @type {Error} */ (err).message));
      }
    },
  });
}

/** Download links of an export with the page's filter. @param {string} what @param {Record<string, unknown>} filter */
export function exportLinks(what, filter) {
  const link = (/** @type {string} */ format, /** @type {string} */ label) =>
    h("a", { class: "button secondary", href: `/api/export/${what}${qs({ ...filter, format })}`, download: "", dataset: { export: format } }, label);
  return h("span", { class: "exports" }, "Export this filter: ", link("csv", "CSV"), " ", link("jsonl", "JSON Lines"));
}

/** @param {PageContext} ctx */
export async function postbacksPage(ctx) {
  const P = ctx.params;
  const filter = {
    state: P.get("state") || undefined, status: P.get("status") || undefined, campaign: P.get("campaign") || undefined, host: P.get("host") || undefined,
    since: P.get("from") ? midnight(ctx.tz, /** @type {string} */ (P.get("from"))) : undefined,
    until: P.get("to") ? midnight(ctx.tz, addDays(/** @type {string} */ (P.get("to")), 1)) : undefined,
  };
  const [list, campaigns, open] = await Promise.all([api("GET", `/api/postbacks${qs({ ...filter, before: P.get("before"), limit: 50 })}`), api("GET", "/api/campaigns"), openCircuits()]);
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "controls", onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    ctx.go("postbacks", { ...formValues(form), tz: P.get("tz") ?? undefined });
  } },
  h("label", null, "State", select("state", STATES, P.get("state"))),
  h("label", null, "Status", select("status", STATUSES, P.get("status"))),
  h("label", null, "Campaign", select("campaign", campaigns.items.map((/** @type {any} */ c) => c.code), P.get("campaign"))),
  h("label", null, "Host", h("input", { name: "host", value: P.get("host") ?? "", placeholder: "trk.example.com", size: 18 })),
  h("label", null, `From (${ctx.tz})`, h("input", { type: "date", name: "from", value: P.get("from") ?? "" })),
  h("label", null, "To", h("input", { type: "date", name: "to", value: P.get("to") ?? "" })),
  h("button", { type: "submit" }, "Filter")));

  const bulk = h("div", { class: "bulk" });
  if (filter.state && FINISHED.includes(filter.state)) {
    const body = { state: filter.state, status: filter.status, campaign: filter.campaign, host: filter.host, since: filter.since, until: filter.until };
    /** @param {any} answer @param {string} id @param {string} label */
    const confirm = (answer, id, label) => h("button", { type: "button", id, onclick: async () => {
      const { retried } = await api("POST", "/api/postbacks/retry", { ...body, and_later: answer.and_later });
      fill(bulk, h("span", { class: "notice", id: "bulk-done" }, `${num(retried)} postbacks queued again.`));
    } }, label);
    const start = h("button", { type: "button", class: "secondary", id: "bulk-retry", onclick: async () => {
      const [alone, withLater] = await Promise.all([
        api("POST", "/api/postbacks/retry", { ...body, dry_run: true }), api("POST", "/api/postbacks/retry", { ...body, and_later: true, dry_run: true }),
      ]);
      if (!alone.matched) return fill(bulk, h("span", { class: "muted" }, "No postbacks match this filter."));
      const left = alone.superseded
        ? ` ${num(alone.superseded)} of them ${alone.superseded === 1 ? "is" : "are"} superseded: their lead has a later postback delivered to the same host, which they would undo at the tracker, so they are left out.`
        : "";
      fill(bulk,
        h("span", { id: "bulk-count" }, `${num(alone.matched)} ${filter.state} postbacks match this filter.${left} Send them again? `),
        alone.queued ? confirm(alone, "bulk-confirm", `Send ${num(alone.queued)} again`) : null, " ",
        alone.superseded && withLater.queued
          ? confirm(withLater, "bulk-confirm-later", `Send all ${num(withLater.queued)}: each with its lead's later postbacks after it, in event order`)
          : null, " ",
        h("button", { type: "button", class: "secondary", onclick: () => fill(bulk, start) }, "Cancel"));
    } }, `Retry all ${filter.state} postbacks of this filter…`);
    fill(bulk, start);
  }
  const older = list.next_before ? h("button", { type: "button", class: "secondary", onclick: () => ctx.go("postbacks", { ...Object.fromEntries(P), before: String(list.next_before) }) }, "Older") : null;
  return h("div", null, h("h1", null, "Postbacks"), form, h("div", { class: "row bulk" }, exportLinks("postbacks", filter)), bulk,
    postbackTable(list.items, ctx.tz, open), h("p", null, older));
}
