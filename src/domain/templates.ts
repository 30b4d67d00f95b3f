import { STATUSES, type Status } from "./status.ts";

/** Macros of a lead event (SPEC §3). */
export const LEAD_MACROS = [
  "click", "status", "campaign", "user", "lead", "subscriber", "username", "chat", "time", "event", "payout", "currency", "quality",
] as const;
/**
 * Macros of the click that brought the lead (SPEC §9; tgcpa's click link): empty when the lead has
 * no click record or the click did not carry it. Any other query parameter is `{param:NAME}`.
 */
export const CLICK_MACROS = [
  "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "sub1", "sub2", "sub3", "sub4", "sub5",
  "fbclid", "fbc", "fbp", "ttclid", "gclid", "yclid", "ip", "user_agent", "referrer", "landing_url",
] as const;
/** Macros a postback template may use; `{param:NAME}` besides them (compileText). */
export const POSTBACK_MACROS = [...LEAD_MACROS, ...CLICK_MACROS] as const;
export type Macro = (typeof POSTBACK_MACROS)[number];
/** `{param:NAME}`: any query parameter of the click, by its name. */
export const PARAM_MACRO_PREFIX = "param:";
export type MacroValues = Record<Macro, string> & { [param: `param:${string}`]: string };

/** The query parameters of a click the click link records (and so the macros it fills); a stored click row fits it. */
export interface ClickRecord {
  /** Every query parameter of the click, by name (utm_*, sub1…5, fbclid, ttclid, gclid, yclid, …). */
  params: Readonly<Record<string, string>>;
  /** The `_fbc` cookie, or `fb.1.<ms>.<fbclid>` built from the fbclid when it was absent. */
  fbc?: string | null;
  /** The `_fbp` cookie. */
  fbp?: string | null;
  /** The client's address (through server.trusted_proxies). */
  ip?: string | null;
  userAgent?: string | null;
  referrer?: string | null;
  /** The URL the click landed on: its presence means the visitor passed a page (Meta's `website`). */
  landingUrl?: string | null;
}

type Segment = string | { macro: string };

/** A text with its macros located once, at config load. */
export interface CompiledText {
  source: string;
  segments: Segment[];
  /** Segments before the first `?` or `#` of the template's own text: in a URL, its path (and host). */
  pathSegments: number;
}

// `{name}`, or `{param:NAME}` with a query parameter's name of URL-unreserved characters.
const MACRO = /\{([A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z0-9_.~-]+)?)\}/g;

/**
 * Splits a template into literal text and macros; throws listing every unknown `{name}`.
 * `{param:NAME}` is taken when `paramMacros` (every text with the click macros).
 */
export function compileText(source: string, allowed: readonly string[] = POSTBACK_MACROS, paramMacros = allowed.includes("utm_source")): CompiledText {
  const segments: Segment[] = [];
  const unknown: string[] = [];
  let last = 0;
  for (const match of source.matchAll(MACRO)) {
    const name = match[1]!;
    const known = name.startsWith(PARAM_MACRO_PREFIX) ? paramMacros : allowed.includes(name);
    if (!known) {
      unknown.push(`{${name}}`);
      continue;
    }
    if (match.index > last) segments.push(source.slice(last, match.index));
    segments.push({ macro: name });
    last = match.index + match[0].length;
  }
  if (unknown.length) {
    const known = [...allowed.map((m) => `{${m}}`), ...(paramMacros ? ["{param:NAME}"] : [])];
    throw new Error(`unknown macro ${unknown.join(", ")} (known: ${known.join(" ")})`);
  }
  if (last < source.length) segments.push(source.slice(last));
  const pathEnd = segments.findIndex((seg) => typeof seg === "string" && /[?#]/.test(seg));
  return { source, segments, pathSegments: pathEnd === -1 ? segments.length : pathEnd };
}

/**
 * Percent-encodes a value for a URL or a form body; `+` becomes %2B, space %20. A lone UTF-16
 * surrogate (which encodeURIComponent refuses) is sent as U+FFFD.
 *
 * In a URL's path, a value of exactly `.` or `..` would be a dot segment and move the path
 * (`/path/{click}/end` → `/end`). WHATWG URL parsing, and so fetch, reads `%2E` as a dot there
 * too, so only a doubly encoded dot (`%252E`) keeps the path: the tracker receives `%2E`.
 */
export function encodeValue(value: string, inPath = false): string {
  if (inPath && (value === "." || value === "..")) return value === "." ? "%252E" : "%252E%252E";
  return encodeURIComponent(value.isWellFormed() ? value : value.toWellFormed());
}

const encodeUrlValue = (value: string, _macro: string, inPath: boolean) => encodeValue(value, inPath);

/** `encode` receives each value, its macro, and whether it lands in the path (before any `?` or `#`). */
export function renderText(
  text: CompiledText,
  values: Readonly<Record<string, string>>,
  encode: (v: string, macro: string, inPath: boolean) => string = encodeUrlValue,
): string {
  let out = "";
  const segments = text.segments;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    out += typeof seg === "string" ? seg : encode(values[seg.macro] ?? "", seg.macro, i < text.pathSegments);
  }
  return out;
}

/** What a lead event's macros are made of (structurally: the stored lead and event rows fit). */
export interface MacroLead {
  id: number;
  click: string;
  subscriber: number;
  username: string;
  chatId: number | null;
  /** The lead's quality score (0–100) when known (issue 22: lead_profiles). */
  quality?: number | null;
}
export interface MacroEvent {
  id: number;
  status: string;
  occurredAt: number;
  /** An inbound postback may carry the payout of its event; it overrides the campaign's. */
  payout: string | null;
  currency: string | null;
}
export interface MacroCampaign {
  code: string;
  payouts: Partial<Record<Status, { payout: string; currency: string }>>;
}

const SUBS = ["sub1", "sub2", "sub3", "sub4", "sub5"] as const;
const CLICK_PARAMS = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", ...SUBS, "fbclid", "ttclid", "gclid", "yclid"] as const;

type ClickValues = Record<(typeof CLICK_MACROS)[number], string> & { [param: `param:${string}`]: string };

/** Every click macro empty: a lead without a click record (built once; macroValues is on the write path). */
const NO_CLICK: Readonly<ClickValues> = Object.freeze(Object.fromEntries(CLICK_MACROS.map((m) => [m, ""])) as ClickValues);

/** SPEC §9: the click macros, each empty when absent, and `param:NAME` for every query parameter. */
function clickValues(click: ClickRecord | undefined): Readonly<ClickValues> {
  if (!click) return NO_CLICK;
  const params = click.params;
  const named = Object.fromEntries(CLICK_PARAMS.map((name) => [name, Object.hasOwn(params, name) ? params[name]! : ""]));
  const out: Record<string, string> = {
    ...named,
    fbc: click.fbc ?? "",
    fbp: click.fbp ?? "",
    ip: click.ip ?? "",
    user_agent: click.userAgent ?? "",
    referrer: click.referrer ?? "",
    landing_url: click.landingUrl ?? "",
  };
  for (const [name, value] of Object.entries(params)) out[`${PARAM_MACRO_PREFIX}${name}`] = value;
  return out as ClickValues;
}

/** SPEC §3 and §9: the value of every macro for one lead event (and the click that brought it, when known). */
export function macroValues(accountId: string, campaign: MacroCampaign, lead: MacroLead, event: MacroEvent, click?: ClickRecord): MacroValues {
  const status = event.status as Status;
  const configured = campaign.payouts[status];
  return {
    ...clickValues(click),
    click: lead.click,
    status,
    campaign: campaign.code,
    user: accountId,
    lead: String(lead.id),
    subscriber: String(lead.subscriber),
    username: lead.username,
    chat: lead.chatId == null ? "" : String(lead.chatId),
    time: String(Math.floor(event.occurredAt / 1000)),
    event: String(event.id),
    payout: event.payout ?? configured?.payout ?? "",
    currency: event.currency ?? configured?.currency ?? "",
    quality: lead.quality == null ? "" : String(lead.quality),
  };
}

/** Macros of the welcome message: the postback macros plus the campaign's invite link. */
export const WELCOME_MACROS = [...POSTBACK_MACROS, "invite"] as const;

/** In a welcome URL every macro is percent-encoded except {invite}, which is itself a URL. */
export const welcomeUrlEncode = (value: string, macro: string, inPath: boolean) => (macro === "invite" ? value : encodeValue(value, inPath));

/** A JSON body template: every string leaf is a template, the structure is kept as it is. */
export type JsonTemplate = CompiledText | number | boolean | null | JsonTemplate[] | { [key: string]: JsonTemplate };

/**
 * A body a destination builds from the values itself (an ad platform's events: hashed ids, numbers,
 * a CSV upload), instead of a template with macros.
 */
export type BuiltBody = { type: "built"; render(values: MacroValues): { body: string; contentType: string } };

export interface Template {
  /** Where it came from in the config, e.g. `campaigns[0].postbacks.approve[1]`. */
  label: string;
  method: "GET" | "POST";
  url: CompiledText;
  body?: { type: "json"; value: JsonTemplate } | { type: "form"; fields: [string, CompiledText][] } | BuiltBody;
  /** The destination (preset) it came from, if any. */
  destination?: string;
  /**
   * Query parameters written as `name={macro}` that are left out when their macro is empty
   * (presets: an empty `payout=` is stored by trackers as an empty string, a missing one as their
   * default). Plain templates have none: they are sent as the user wrote them.
   */
  omitWhenEmpty?: [param: string, macro: string][];
  /**
   * How its answers are judged, by name (presets.ts `verdictByName`): a tracker's answer format
   * (`keitaro`, `altercpa`), `status` or `none`; unset = a 2xx is delivered unless it is an HTML page.
   * An ad platform's row stores `<preset>@<destination>` (`meta-capi@fb`): the platform's answers,
   * and the destination whose secret the HTTP channel fills in at send time (adplatforms/secrets.ts).
   */
  verdict?: string;
}

export type EventTemplates = Record<Status, Template[]>;

export interface RenderedRequest {
  method: "GET" | "POST";
  url: string;
  body: string | null;
  contentType: string | null;
}

const isCompiled = (v: unknown): v is CompiledText =>
  typeof v === "object" && v !== null && "segments" in v && "source" in v;

function renderJson(value: JsonTemplate, values: MacroValues): unknown {
  if (isCompiled(value)) return renderText(value, values, (v) => v);
  if (Array.isArray(value)) return value.map((v) => renderJson(v, values));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, values)]));
  }
  return value;
}

/** Whether a text uses a macro (e.g. a postback URL that carries `{click}`). */
export const usesMacro = (text: CompiledText, macro: string) => text.segments.some((seg) => typeof seg !== "string" && seg.macro === macro);

/**
 * A URL that carries `{click}` for a lead without a click (empty or blank): no tracker can count
 * that conversion, so it is not sent (SPEC §4, skipped `no_click`). A `{click}` in a POST body
 * alone does not count: such a receiver (a CRM) may want the lead anyway.
 */
export const lacksClick = (template: Template, values: MacroValues) => values.click.trim() === "" && usesMacro(template.url, "click");

/** The query parameters of a URL template whose whole value is one macro: `subid={click}` → [subid, click]. */
export function loneMacroParams(source: string): [param: string, macro: string][] {
  const query = source.split("#")[0]!.split("?").slice(1).join("?");
  return query.split("&").flatMap((part) => {
    const m = /^([^={}]+)=\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(part);
    return m ? [[m[1]!, m[2]!] as [string, string]] : [];
  });
}

/**
 * Leaves out of a rendered URL each `param=` whose macro rendered empty. Splitting the query at
 * `&` is safe: every substituted value is percent-encoded, so only the template's own `&` remain.
 */
function dropEmptyParams(url: string, params: Template["omitWhenEmpty"], values: Readonly<Record<string, string>>): string {
  const empty = new Set((params ?? []).filter(([, macro]) => (values[macro] ?? "") === "").map(([param]) => `${param}=`));
  const q = url.indexOf("?");
  if (empty.size === 0 || q === -1) return url;
  const hash = url.indexOf("#", q);
  const end = hash === -1 ? url.length : hash;
  const kept = url.slice(q + 1, end).split("&").filter((part) => !empty.has(part));
  return `${url.slice(0, q)}${kept.length ? `?${kept.join("&")}` : ""}${url.slice(end)}`;
}

export function renderRequest(template: Template, values: MacroValues): RenderedRequest {
  const url = dropEmptyParams(renderText(template.url, values), template.omitWhenEmpty, values);
  const body = template.body;
  if (!body) return { method: template.method, url, body: null, contentType: null };
  if (body.type === "json") {
    return { method: template.method, url, body: JSON.stringify(renderJson(body.value, values)), contentType: "application/json" };
  }
  if (body.type === "built") {
    const built = body.render(values);
    return { method: template.method, url, body: built.body, contentType: built.contentType };
  }
  // A form field's whole value is data: its literal text is encoded as well as its macros.
  const form = body.fields.map(([k, v]) => `${encodeValue(k)}=${encodeValue(renderText(v, values, (x) => x))}`).join("&");
  return { method: template.method, url, body: form, contentType: "application/x-www-form-urlencoded" };
}

/**
 * SPEC §3, all-or-nothing: a campaign that sets any of its five templates uses its own five
 * (a missing or empty one means no postback); otherwise the global five apply.
 */
export function resolveTemplates(global: EventTemplates, campaign: EventTemplates | null, status: Status): Template[] {
  return (campaign ?? global)[status];
}

export const emptyTemplates = (): EventTemplates =>
  Object.fromEntries(STATUSES.map((s) => [s, []])) as unknown as EventTemplates;
