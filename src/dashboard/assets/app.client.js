// @ts-check
// The dashboard: sign-in, a hash router (#/overview, #/campaign/CODE, #/retention, #/money, #/postbacks,
// #/leads, #/lead/ID, #/trace, #/journal, #/bots) and the pages, which read the same /api routes as scripts do.
import { api, whenSignedOut } from "./api.client.js";
import { journalPage } from "./journal-page.client.js";
import { moneyPage, retentionPage } from "./insights-pages.client.js";
import { leadPage, leadsPage } from "./leads-pages.client.js";
import { botsPage } from "./ops-pages.client.js";
import { postbacksPage } from "./postbacks-page.client.js";
import { tracePage } from "./trace-page.client.js";
import { campaignPage, overviewPage } from "./stats-pages.client.js";
import { fill, h, showError } from "./ui.client.js";

/**
 * What a page gets: the zone to show times in, the route's argument and query, navigation, and the
 * click parameters the funnel can be grouped by (dashboard.click_groups).
 * @typedef {{ tz: string, arg: string | null, params: URLSearchParams, route: string, go: (route: string, params?: Record<string, string | undefined>) => void, clickGroups: string[] }} PageContext
 * @typedef {(ctx: PageContext) => Promise<Node>} Page
 */

/** @type {Record<string, Page>} */
const ROUTES = { overview: overviewPage, campaign: campaignPage, postbacks: postbacksPage, leads: leadsPage, lead: leadPage, trace: tracePage, journal: journalPage, bots: botsPage, retention: retentionPage, money: moneyPage };

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const session = { timezone: "UTC", clickGroups: /** @type {string[]} */ ([]) };

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  const [route = "", ...rest] = path.split("/");
  return { route: route || "overview", arg: rest.length ? decodeURIComponent(rest.join("/")) : null, params: new URLSearchParams(q === -1 ? "" : raw.slice(q + 1)) };
}

/** @param {string} route @param {Record<string, string | undefined>} [params] */
function go(route, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  location.hash = `#/${route}${s ? `?${s}` : ""}`;
}

let rendering = 0;
async function render() {
  const { route, arg, params } = parseHash();
  const page = ROUTES[route] ?? overviewPage;
  for (const a of document.querySelectorAll("#nav a[data-route]")) {
    const r = /** @type {HTMLElement} */ (a).dataset.route;
    a.classList.toggle("active", r === route || (r === "overview" && route === "campaign") || (r === "leads" && route === "lead"));
  }
  // ?tz= in the page's own address (/dashboard?tz=Europe/Moscow) or in the route; else the configured zone.
  const tz = params.get("tz") || new URLSearchParams(location.search).get("tz") || session.timezone;
  const main = $("main");
  const hash = location.hash;
  const mine = ++rendering;
  main.setAttribute("aria-busy", "true");
  try {
    const content = await page({ tz, arg, params, route, go, clickGroups: session.clickGroups });
    if (mine === rendering) fill(main, content);
  } catch (err) {
    if (mine === rendering && /** @type {any} */ (err).status !== 401) showError(main, err);
  } finally {
    if (mine === rendering) {
      main.removeAttribute("aria-busy");
      main.dataset.rendered = hash; // which route the content shows (tests and scripts wait for it)
    }
  }
}

function showSignIn() {
  $("app").hidden = true;
  $("signin").hidden = false;
  fill($("main"));
  $("signin-key").focus();
}

function showApp() {
  $("signin").hidden = true;
  $("app").hidden = false;
  void render();
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = /** @type {HTMLInputElement} */ ($("signin-key"));
  const error = $("signin-error");
  fill(error);
  try {
    const s = await api("POST", "/api/session", { key: input.value });
    session.timezone = s.timezone;
    session.clickGroups = s.click_groups;
    input.value = "";
    showApp();
  } catch (err) {
    const e = /** @type {any} */ (err);
    fill(error, e.status === 401 ? "Wrong API key." : e.message);
  }
});

/** Where Swagger UI kept an API key typed into Authorize when it persisted it (earlier versions did). */
const SWAGGER_STORED_KEY = "authorized";

$("signout").addEventListener("click", async () => {
  try {
    await api("DELETE", "/api/session");
  } finally {
    localStorage.removeItem(SWAGGER_STORED_KEY); // same origin: signing out leaves no key in this browser
    showSignIn();
  }
});

whenSignedOut(showSignIn);
window.addEventListener("hashchange", () => {
  if (!$("app").hidden) void render();
});

try {
  const s = await api("GET", "/api/session");
  session.timezone = s.timezone;
  session.clickGroups = s.click_groups;
  showApp();
} catch (err) {
  if (/** @type {any} */ (err).status === 401) showSignIn();
  else fill(document.body, h("p", { class: "error" }, `The service did not answer: ${/** @type {Error} */ (err).message}`));
}
