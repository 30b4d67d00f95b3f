// @ts-check
// Postbacks (filters, attempt log, Retry, bulk retry with its dry-run count), leads search and a
// lead's history, bots and chats.
import { api, ApiError, qs } from "./api.client.js";
import { joinRequestButtons, qualityPanel } from "./quality.client.js";
import { addDays, badge, botState, breakable, fill, formValues, h, midnight, num, select, table, time } from "./ui.client.js";

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
      ["#", (a) => a.attempt, { num: true }],
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

/**
 * Postbacks as a table: a click on a row opens its attempt log below it; failed and rejected rows
 * have a Retry button, which queues the row again and follows it to its new outcome. A row whose
 * lead has a later postback delivered to the same host is not sent alone (it would undo that status
 * at the tracker): the service refuses it (409 superseded) and the row asks first whether to send
 * it followed by the later ones.
 * @param {any[]} rows @param {string} tz
 */
export function postbackTable(rows, tz) {
  /** @param {any} p */
  const retryCell = (p) => {
    if (!RETRYABLE.includes(p.state)) return "";
    const button = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: "secondary", dataset: { retry: String(p.id) } }, "Retry"));
    /** @param {HTMLElement} tr @param {boolean} andLater */
    const send = async (tr, andLater) => {
      const reason = /** @type {HTMLElement} */ (tr.querySelector("[data-cell=reason]"));
      try {
        const { postback } = await api("POST", `/api/postbacks/${p.id}/retry`, andLater ? { and_later: true } : undefined);
        update(tr, postback);
        for (let i = 0; i < 40 && postback.state === "pending"; i++) {
          await new Promise((r) => setTimeout(r, 250));
          const fresh = (await api("GET", `/api/postbacks/${p.id}`)).postback;
          update(tr, fresh);
          if (fresh.state !== "pending") break;
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
  /** @param {HTMLElement} tr @param {any} p */
  const update = (tr, p) => {
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=state]")), badge(p.state));
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=attempts]")), String(p.attempts));
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=http]")), p.last_http_status ?? "—");
    fill(/** @type {HTMLElement} */ (tr.querySelector("[data-cell=reason]")), p.reason ?? "");
    tr.dataset.state = p.state;
  };
  const cell = (/** @type {string} */ name, /** @type {any} */ value) => h("span", { dataset: { cell: name } }, value);
  return table([
    ["ID", (p) => p.id, { num: true }],
    ["Created", (p) => time(p.created_at, tz)],
    ["Campaign", (p) => p.campaign],
    ["Lead", (p) => h("a", { href: `#/lead/${p.lead}` }, p.lead)],
    ["Status", (p) => badge(p.status)],
    ["Host", (p) => breakable(p.host)],
    ["State", (p) => cell("state", badge(p.state))],
    ["Attempts", (p) => cell("attempts", p.attempts), { num: true }],
    ["HTTP", (p) => cell("http", p.last_http_status ?? "—"), { num: true }],
    ["Reason", (p) => cell("reason", p.reason ?? "")],
    ["", retryCell],
  ], rows, {
    empty: "No postbacks match.",
    rowAttrs: (p) => ({ dataset: { postback: String(p.id), state: p.state } }),
    onRow: async (p, tr) => {
      const open = tr.nextElementSibling?.classList.contains("detail") ? tr.nextElementSibling : null;
      if (open) return open.remove();
      const td = h("td", { colSpan: 11 }, h("span", { class: "muted" }, "Loading…"));
      tr.after(h("tr", { class: "detail" }, td));
      try {
        fill(td, await attemptLog(p.id, tz));
      } catch (err) {
        fill(td, h("span", { class: "error" }, /** @type {Error} */ (err).message));
      }
    },
  });
}

/** @param {PageContext} ctx */
export async function postbacksPage(ctx) {
  const P = ctx.params;
  const filter = {
    state: P.get("state") || undefined, status: P.get("status") || undefined, campaign: P.get("campaign") || undefined, host: P.get("host") || undefined,
    since: P.get("from") ? midnight(ctx.tz, /** @type {string} */ (P.get("from"))) : undefined,
    until: P.get("to") ? midnight(ctx.tz, addDays(/** @type {string} */ (P.get("to")), 1)) : undefined,
  };
  const [list, campaigns] = await Promise.all([api("GET", `/api/postbacks${qs({ ...filter, before: P.get("before"), limit: 50 })}`), api("GET", "/api/campaigns")]);
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
  return h("div", null, h("h1", null, "Postbacks"), form, bulk, postbackTable(list.items, ctx.tz), h("p", null, older));
}

const leadColumns = (/** @type {string} */ tz) => /** @type {[string, (l: any) => any, any?][]} */ ([
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
  const q = (ctx.params.get("q") ?? "").trim();
  const field = ctx.params.get("field") || "any";
  let items;
  let older = null;
  if (q) {
    // One query per field that the text can be (each served by an index), merged newest first.
    const asks = [];
    if ((field === "any" || field === "subscriber") && /^-?\d{1,16}$/.test(q)) asks.push({ subscriber: q });
    if (field === "any" || field === "click") asks.push({ click: q });
    if ((field === "any" || field === "username") && /^@?[A-Za-z0-9_]{1,64}$/.test(q)) asks.push({ username: q });
    const found = await Promise.all(asks.map((a) => api("GET", `/api/leads${qs({ ...a, limit: 100 })}`)));
    const byId = new Map(found.flatMap((f) => f.items).map((/** @type {any} */ l) => [l.id, l]));
    items = [...byId.values()].sort((a, b) => b.id - a.id);
  } else {
    const list = await api("GET", `/api/leads${qs({ before: ctx.params.get("before"), limit: 50 })}`);
    items = list.items;
    if (list.next_before) older = h("button", { type: "button", class: "secondary", onclick: () => ctx.go("leads", { before: String(list.next_before) }) }, "Older");
  }
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "controls", onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    ctx.go("leads", formValues(form));
  } },
  h("label", null, "Subscriber, click or @username", h("input", { name: "q", value: q, size: 32, autofocus: true, type: "search" })),
  h("label", null, "In", select("field", ["subscriber", "click", "username"], field === "any" ? null : field, "any field")),
  h("button", { type: "submit" }, "Search")));
  return h("div", null, h("h1", null, "Leads"), form, table(leadColumns(ctx.tz), items, { empty: q ? "No lead matches." : "No leads yet." }), h("p", null, older));
}

/** @param {PageContext} ctx */
export async function leadPage(ctx) {
  const { lead, profile, events, postbacks } = await api("GET", `/api/leads/${encodeURIComponent(ctx.arg ?? "")}`);
  return h("div", null,
    h("h1", null, `Lead ${lead.id}`),
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
    ], events),
    h("h2", null, "Postbacks"),
    postbackTable(postbacks, ctx.tz));
}

/** @param {PageContext} ctx */
export async function botsPage(ctx) {
  const [bots, chats] = await Promise.all([api("GET", "/api/bots"), api("GET", "/api/chats")]);
  const running = new Set(bots.items.filter((/** @type {any} */ b) => b.status === "running").map((/** @type {any} */ b) => b.name));
  return h("div", null,
    h("h1", null, "Bots"),
    table([
      ["Name", (b) => b.name],
      ["Username", (b) => (b.username ? `@${b.username}` : "—")],
      ["Mode", (b) => b.mode],
      ["Status", (b) => botState(b, b.name, ctx.tz)],
      ["Webhook / offset", (b) => (b.mode === "webhook" ? (b.webhook_url ? breakable(b.webhook_url) : "—") : `offset ${b.polling_offset}`)],
      ["Last update", (b) => time(b.last_update_at, ctx.tz)],
      ["Last error at", (b) => (b.last_error ? time(b.last_error_at, ctx.tz) : "")],
    ], bots.items, { empty: "No bots configured." }),
    h("h2", null, "Chats"),
    table([
      ["Bot", (c) => c.bot],
      ["Chat", (c) => c.chat],
      ["Title", (c) => c.title],
      ["Type", (c) => c.type],
      ["Bot's status", (c) => c.status],
      // What Telegram last said of the chat; not known while its bot is not connected.
      ["Rights", (c) => (!running.has(c.bot) ? h("span", { class: "badge unknown", dataset: { rights: c.chat } }, "unknown: bot not connected")
        : c.missing_rights.length ? h("span", { class: "badge missing", dataset: { rights: c.chat } }, `missing: ${c.missing_rights.join(", ")}`) : badge("ok"))],
      ["Updated", (c) => time(c.updated_at, ctx.tz)],
    ], chats.items, { empty: "No chats yet: they appear when a bot is added to one." }));
}
