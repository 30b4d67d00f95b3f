// @ts-check
// Small DOM and formatting helpers: no framework, nothing loaded from elsewhere.

/**
 * Creates an element. `attrs` keys starting with "on" add listeners; `dataset` and `class` work as usual.
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "class") el.className = v;
    else if (k in el && typeof v !== "string") /** @type {any} */ (el)[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {any[]} children */
function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. @param {Element} el @param {...any} children */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A table. Columns: [header, cell(row) → content, options?]; `onRow` makes rows clickable.
 * @template T
 * @param {[string, (row: T) => any, { num?: boolean }?][]} columns
 * @param {T[]} rows
 * @param {{ onRow?: (row: T, tr: HTMLElement) => void, empty?: string, rowAttrs?: (row: T) => Record<string, any> }} [opts]
 */
export function table(columns, rows, opts = {}) {
  const head = h("tr", null, columns.map(([title, , o]) => h("th", { class: o?.num ? "num" : null }, title)));
  const body = rows.map((row) => {
    const tr = h("tr", { class: opts.onRow ? "clickable" : null, ...(opts.rowAttrs?.(row) ?? {}) }, columns.map(([, cell, o]) => h("td", { class: o?.num ? "num" : null }, cell(row))));
    if (opts.onRow) tr.addEventListener("click", (e) => {
      if (/** @type {HTMLElement} */ (e.target).closest("button, a")) return; // buttons and links in a row do their own thing
      opts.onRow?.(row, tr);
    });
    return tr;
  });
  if (!rows.length) body.push(h("tr", null, h("td", { colSpan: columns.length, class: "muted" }, opts.empty ?? "Nothing here.")));
  // The box scrolls sideways on a narrow screen, not the page.
  return h("div", { class: "table-wrap" }, h("table", null, h("thead", null, head), h("tbody", null, body)));
}

/**
 * Long machine text (click ids, URLs, hosts) that may break after its separators (- _ . / ? & =)
 * rather than anywhere; the CSS breaks a run without any only when nothing else fits.
 * @param {string | number | null | undefined} text
 */
export function breakable(text) {
  const el = h("span", { class: "wrap" });
  for (const part of String(text ?? "").split(/(?<=[-_./?&=:])/)) el.append(part, document.createElement("wbr"));
  el.lastChild?.remove();
  return el;
}

/** Keys of a journal detail that hold an instant in epoch ms. */
const TIME_KEYS = /(^at$|_at$|^time$)/;

/**
 * A journal entry's detail as "key: value" lines a person reads: epoch-ms times in the chosen
 * zone, nested objects as their own lines, text as it is (no JSON quotes).
 * @param {unknown} detail @param {string} tz
 */
export function detailList(detail, tz) {
  if (detail === null || detail === undefined || detail === "") return "";
  if (typeof detail !== "object") return breakable(String(detail));
  /** @param {string} key @param {unknown} v @returns {any} */
  const value = (key, v) => {
    if (typeof v === "number" && TIME_KEYS.test(key) && v > 1e11) return time(new Date(v).toISOString(), tz);
    if (v && typeof v === "object") return detailList(v, tz);
    return breakable(v === null ? "—" : String(v));
  };
  return h("dl", { class: "detail-list" }, Object.entries(detail).flatMap(([k, v]) => [h("dt", null, k.replace(/_/g, " ")), h("dd", null, value(k, v))]));
}

const numberFormat = new Intl.NumberFormat("en-US");
/** @param {number | null | undefined} n */
export const num = (n) => (n === null || n === undefined ? "—" : numberFormat.format(n));
/** @param {number | null | undefined} r a ratio (0.25 → 25 %) */
export const pct = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(r > 0 && r < 0.1 ? 1 : 0)} %`);

/** @param {string} state */
export const badge = (state) => h("span", { class: `badge ${state}` }, state);

const timeFormats = new Map();
/** An ISO time shown in the zone, as 2024-05-01 10:00:00. @param {string | null} iso @param {string} tz */
export function time(iso, tz) {
  if (!iso) return "—";
  let f = timeFormats.get(tz);
  if (!f) timeFormats.set(tz, (f = new Intl.DateTimeFormat("sv-SE", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })));
  return f.format(new Date(iso));
}

const clockFormats = new Map();
/** The time of day of an ISO time in the zone, as 23:50:13. @param {string} iso @param {string} tz */
export function clockTime(iso, tz) {
  let f = clockFormats.get(tz);
  if (!f) clockFormats.set(tz, (f = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })));
  return f.format(new Date(iso));
}

/** Today's date in the zone, YYYY-MM-DD. @param {string} tz */
export const today = (tz) => new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());

/** Calendar arithmetic on YYYY-MM-DD. @param {string} date @param {number} days */
export function addDays(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Local time minus UTC at an instant, in ms. @param {string} tz @param {number} ms */
function offset(tz, ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" })
    .formatToParts(ms).filter((p) => p.type !== "literal").map((p) => [p.type, Number(p.value)]));
  const whole = Math.floor(ms / 1000) * 1000;
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - whole;
}

/** Midnight of a local date in the zone, as an ISO instant (for filters of the API). @param {string} tz @param {string} date */
export function midnight(tz, date) {
  const [y, m, d] = date.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - offset(tz, wall);
  t = wall - offset(tz, t);
  return new Date(t).toISOString();
}

/** Every IANA zone the browser knows, for the zone picker. */
export function zones() {
  try {
    return /** @type {any} */ (Intl).supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}

/**
 * A bot's health: its state, and while it is down its error and when it is tried next.
 * @param {any} bot the bot of GET /api/bots, or undefined @param {string} name @param {string} tz
 */
export function botState(bot, name, tz) {
  return h("span", null,
    h("span", { class: `badge ${bot?.status ?? "missing"}`, dataset: { health: "bot" } }, bot?.status ?? "not running"), " ",
    bot?.username ? `@${bot.username}` : name,
    bot?.last_error ? h("div", { class: "error" }, bot.last_error) : null,
    bot?.next_retry_at ? h("div", { class: "muted", dataset: { nextRetry: name } }, `next try at ${time(bot.next_retry_at, tz)}`) : null);
}

/** @param {string} name @param {string[]} options @param {string | null} value @param {string} [any] */
export function select(name, options, value, any = "any") {
  return h("select", { name }, h("option", { value: "" }, any), options.map((o) => h("option", { value: o, selected: o === value }, o)));
}

/** @param {HTMLFormElement} form */
export const formValues = (form) => /** @type {Record<string, string>} */ (Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()])));

/** Shows an error where the page content goes. @param {Element} el @param {unknown} err */
export function showError(el, err) {
  fill(el, h("p", { class: "error", role: "alert" }, err instanceof Error ? err.message : String(err)));
}
