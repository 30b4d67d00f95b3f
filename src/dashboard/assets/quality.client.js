// @ts-check
// The lead page's parts of issue 22: the quality panel (the score with the reasons that moved it,
// and the signals) and Approve / Decline for a held join request.
import { api } from "./api.client.js";
import { h, table } from "./ui.client.js";

/** What each reason code means, for a person. */
const REASONS = /** @type {Record<string, string>} */ ({
  premium: "Telegram Premium",
  username: "has a username",
  no_username: "no username",
  language: "the client sent a language",
  no_language: "the client sent no language",
  old_account: "account about 3+ years old (estimated from the id)",
  newest_account: "account from the newest id range (registered after 2022-03)",
  instant_join: "joined within 5 s of the Start",
  fast_leave: "left within 10 minutes of joining",
});

/** @param {any} p the profile of GET /api/leads/{id}; null for a lead with no events since scores were kept */
export function qualityPanel(p) {
  if (!p) return h("p", { class: "muted" }, "No quality score: the lead has had no event since scores are kept.");
  const yesNo = (/** @type {boolean | null} */ v) => (v === null ? "not known" : v ? "yes" : "no");
  const age = p.account_age
    ? p.account_age.estimate === "about" ? `about ${p.account_age.date.slice(0, 7)} (± ${Math.round(p.account_age.error_days / 30)} months)` : `after ${p.account_age.date.slice(0, 7)}`
    : "not known";
  return h("div", { class: "quality" },
    h("p", null, h("strong", { class: `badge quality-${p.band}`, dataset: { quality: p.quality } }, `Quality ${p.quality} / 100 · ${p.band}`)),
    table([
      ["Reason", (r) => REASONS[r.code] ?? r.code],
      ["Points", (r) => (r.points > 0 ? `+${r.points}` : String(r.points)), { num: true }],
    ], p.reasons, { empty: "No signal moved the score from 50." }),
    table([
      ["Premium", () => yesNo(p.premium)],
      ["Language", () => p.language ?? "—"],
      ["Username", () => yesNo(p.has_username)],
      ["Account created", () => age],
      ["Start → join", () => (p.start_to_join_ms === null ? "—" : `${(p.start_to_join_ms / 1000).toFixed(1)} s`)],
      ["Fast leave", () => (p.fast_leave ? "yes" : "no")],
      ["Welcome variant", () => p.welcome_variant ?? "—"],
    ], [p]));
}

/**
 * Approve and Decline for a lead whose join request waits (status hold): the bot answers through
 * its paced channel (POST /api/leads/{id}/join-request). @param {any} lead @param {() => void} done
 */
export function joinRequestButtons(lead, done) {
  if (lead.status !== "hold") return null;
  const note = h("span", { class: "muted", role: "status" });
  const answer = (/** @type {string} */ decision) => async () => {
    try {
      const r = await api("POST", `/api/leads/${lead.id}/join-request`, { decision });
      note.textContent = `${r.method} queued (postback ${r.postback.id}).`;
      done();
    } catch (err) {
      note.textContent = /** @type {Error} */ (err).message;
    }
  };
  return h("div", { class: "row join-request" },
    h("span", null, "Join request waiting:"),
    h("button", { type: "button", dataset: { decision: "approve" }, onclick: answer("approve") }, "Approve"),
    h("button", { type: "button", class: "secondary", dataset: { decision: "decline" }, onclick: answer("decline") }, "Decline"),
    note);
}
