// @ts-check
// Bots and chats: each bot's state and health, the chats and missing admin rights.
import { api } from "./api.client.js";
import { badge, botState, breakable, h, table, time } from "./ui.client.js";

/** @typedef {import("./app.client.js").PageContext} PageContext */

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
