import { adTarget } from "../adplatforms/index.ts";
import { answerWords, type AnswerRule, type BodyVerdict } from "../domain/verdict.ts";
import { STATUSES, type Status } from "../domain/status.ts";

export interface PresetParam {
  name: string;
  required: boolean;
  default?: string;
  description: string;
}

/**
 * A tracker preset (reference/trackers.md): its params and one URL per status. `{domain}` becomes
 * `https://domain` unless the value carries a scheme; other `{param}`s are filled (percent-encoded)
 * when the config loads; the lead macros stay for each event.
 */
export interface Preset {
  name: string;
  tracker: string;
  params: PresetParam[];
  templates: Record<Status, string>;
  /** The answer format, when the tracker documents one. */
  verdict?: keyof typeof VERDICTS;
  notes: string;
}

const DOMAIN: PresetParam = { name: "domain", required: true, description: "tracker domain; a scheme may be given (http://127.0.0.1:9000), else https" };
const same = (url: string): Record<Status, string> => Object.fromEntries(STATUSES.map((s) => [s, url])) as Record<Status, string>;
const mapped = (url: (word: string) => string, words: Record<Status, string>): Record<Status, string> =>
  Object.fromEntries(STATUSES.map((s) => [s, url(words[s])])) as Record<Status, string>;

/** AlterCPA's refusal: JSON `status: "error"` with its code; anything else is not a refusal it documents. */
function alterCpaError(body: string): { refused: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const p = parsed as { status?: unknown; error?: unknown; message?: unknown } | null;
  if (p?.status !== "error") return undefined;
  const message = typeof p.message === "string" ? answerWords(p.message) : null;
  return { refused: `status "error"${p.error !== undefined ? `, error ${JSON.stringify(p.error).slice(0, 60)}` : ""}${message ? `: ${message}` : ""}` };
}

/** Prosper202's refusal: JSON with `error: true` (its `msg` as the words); an empty body or `error: false` is not one. */
function prosper202Error(body: string): { refused: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const p = parsed as { error?: unknown; code?: unknown; msg?: unknown } | null;
  if (p?.error !== true) return undefined;
  const msg = typeof p.msg === "string" ? answerWords(p.msg) : null;
  return { refused: `error true${typeof p.code === "number" ? `, code ${p.code}` : ""}${msg ? `: ${msg}` : ""}` };
}

/**
 * Refusals a tracker's answer format documents (reference/trackers.md), by name; a postback row
 * stores the name so the dispatcher can judge its answer. Anything else in a 2xx is delivered —
 * Keitaro answers `Success` even for a click it does not know yet, and compatible trackers have
 * their own success words — except an HTML page, which every destination refuses (classify.ts).
 */
export const VERDICTS = {
  /** Keitaro answers 200 for everything; a refusal starts with "Incorrect" (`Incorrect subid`, `Incorrect postback code (…)`). */
  keitaro: ((body: string) => (/^\s*incorrect\b/i.test(body) ? { refused: answerWords(body)! } : undefined)) as BodyVerdict,
  /** AlterCPA answers 200 with JSON `status: ok | error`. */
  altercpa: alterCpaError as BodyVerdict,
  /** Prosper202 answers JSON `error: true` (with `code` and `msg`) for a refusal; 200 empty or 202 `error: false` is success. */
  prosper202: prosper202Error as BodyVerdict,
} satisfies Record<string, BodyVerdict>;

/** `destinations.<name>.verdict`: the preset's own reading (default), the HTTP status alone, or none. */
export const VERDICT_MODES = ["preset", "status", "none"] as const;
export type VerdictMode = (typeof VERDICT_MODES)[number];

/** The name a postback row stores for a destination's verdict mode (null: the HTML check alone). */
export const verdictName = (mode: VerdictMode, preset?: Preset): string | null => (mode === "preset" ? (preset?.verdict ?? null) : mode);

const RULES = new Map<string, AnswerRule>([
  ["status", { judge: "status" }],
  // An alert's webhook (Slack, Discord, or the operator's own): judged by its status alone.
  ["alert-webhook", { judge: "status" }],
  ["none", { judge: "none" }],
  ...Object.entries(VERDICTS).map(([name, refusal]) => [name, { judge: "body", refusal }] as [string, AnswerRule]),
]);
const HTML_CHECK_ONLY: AnswerRule = { judge: "body" };
/** One rule per ad platform, made on first use (every attempt asks for its row's rule). */
const PLATFORM_RULES = new Map<string, AnswerRule>();

/**
 * The rule for a row's stored verdict name; no name (a plain template, a preset without an answer
 * format) still refuses HTML pages. An ad row's `<preset>@<destination>` is judged by its platform.
 */
export function verdictByName(name: string | null | undefined): AnswerRule {
  const rule = name ? RULES.get(name) : undefined;
  if (rule) return rule;
  const ad = adTarget(name);
  if (!ad) return HTML_CHECK_ONLY;
  const known = PLATFORM_RULES.get(ad.platform.name);
  if (known) return known;
  const made: AnswerRule = { judge: "platform", classify: ad.platform.classify };
  PLATFORM_RULES.set(ad.platform.name, made);
  return made;
}

export const PRESETS: Preset[] = [
  {
    name: "keitaro",
    tracker: "Keitaro (v9–v11)",
    params: [DOMAIN, { name: "key", required: true, description: "postback key from the tracker's settings (short hex)" }],
    templates: same("{domain}/{key}/postback?subid={click}&status={status}&payout={payout}&currency={currency}&tid={lead}&lead_status=wait,hold&sale_status=approve&rejected_status=cancel,trash"),
    verdict: "keitaro",
    notes: "Statuses are translated by Keitaro through lead_status/sale_status/rejected_status; tid is constant per lead.",
  },
  {
    name: "binom",
    tracker: "Binom (click.php form; Binom 2: path /click)",
    params: [DOMAIN, { name: "path", required: false, default: "/click.php", description: "endpoint path; Binom 2 documents /click" }],
    templates: same("{domain}{path}?cnv_id={click}&cnv_status={status}&cnv_status2={lead}&payout={payout}&cnv_currency={currency}"),
    notes: "Answer format undocumented: any 2xx is delivered. A repeat for the same click overwrites the conversion.",
  },
  {
    name: "binom-goal",
    tracker: "Binom (goal form)",
    params: [DOMAIN],
    templates: same("{domain}/postback?clickid={click}&goal={status}"),
    notes: "For installs configured with goals per status.",
  },
  {
    name: "altercpa-pro",
    tracker: "AlterCPA Pro — external sites",
    params: [DOMAIN, { name: "token", required: true, description: "site token {siteId}-{key}" }],
    templates: {
      ...same("{domain}/api/site/status.json?token={token}&click={click}&status={status}&auto=1&exto={lead}"),
      wait: "{domain}/api/site/click.json?token={token}&click={click}&exto={lead}",
    },
    verdict: "altercpa",
    notes: "wait creates the lead (click.json); the other statuses move it (status.json). exto = our lead id.",
  },
  {
    name: "altercpa-lite",
    tracker: "AlterCPA One / Red / Lite (tracker postback API)",
    params: [DOMAIN, { name: "token", required: true, description: "postback id/token" }, { name: "path", required: false, default: "/api/track/postback.json", description: "endpoint path; the API manual also names /api/tracker/postback.json" }],
    templates: mapped((w) => `{domain}{path}?id={token}&click={click}&uid={lead}&status=${w}&price={payout}&currency={currency}`, { wait: "new", hold: "hold", approve: "approve", cancel: "cancel", trash: "trash" }),
    verdict: "altercpa",
    notes: "AlterCPA's hold means confirmed but not yet paid.",
  },
  {
    name: "prosper202",
    tracker: "Prosper202 (server postback gpb.php)",
    params: [DOMAIN],
    // No status parameter: every request is a conversion, so only approve is sent, with a txid constant per lead.
    templates: { wait: "", hold: "", approve: "{domain}/tracking202/static/gpb.php?subid={click}&amount={payout}&txid={lead}", cancel: "", trash: "" },
    verdict: "prosper202",
    notes: "Approve only: Prosper202 counts every request as a conversion. A 200 does not prove it was recorded: check Prosper202's report.",
  },
  {
    name: "voluum",
    tracker: "Voluum",
    params: [DOMAIN],
    templates: same("{domain}/postback?cid={click}&et={status}&payout={payout}&currency={currency}&txid={event}"),
    notes: "et = conversion type; txid = our event id so each status counts once.",
  },
  {
    name: "redtrack",
    tracker: "RedTrack",
    params: [DOMAIN],
    templates: mapped((w) => `{domain}/postback?clickid={click}&status=${w}&type={status}&sum={payout}`, { wait: "Pending", hold: "Pending", approve: "Approved", cancel: "Declined", trash: "Declined" }),
    notes: "status is RedTrack's Approved/Pending/Declined; type carries the tgcpa status.",
  },
  {
    name: "bemob",
    tracker: "BeMob",
    params: [DOMAIN],
    templates: same("{domain}/postback?cid={click}&status={status}&payout={payout}&txid={event}"),
    notes: "Statuses are mapped in BeMob.",
  },
  {
    name: "peerclick",
    tracker: "PeerClick",
    params: [DOMAIN],
    templates: same("{domain}/postback?cid={click}&status={status}&payout={payout}&currency={currency}&txid={event}"),
    notes: "",
  },
  {
    name: "clickflare",
    tracker: "ClickFlare",
    params: [DOMAIN],
    templates: same("{domain}/cf/cv?click_id={click}&ct={status}&payout={payout}&txid={event}"),
    notes: "ct = conversion type.",
  },
];

export const presetByName = (name: string) => PRESETS.find((p) => p.name === name);

/**
 * Fills a preset's placeholders from its params: `{domain}` as a base URL, the others
 * percent-encoded. Returns the five templates, or the list of problems.
 */
export function fillPreset(preset: Preset, params: Record<string, string>): { templates: Record<Status, string> } | { errors: string[] } {
  const errors: string[] = [];
  const values: Record<string, string> = {};
  for (const p of preset.params) {
    const v = params[p.name] ?? p.default;
    if (v === undefined || v === "") errors.push(`${p.name} is required for preset ${preset.name}`);
    else values[p.name] = v;
  }
  for (const k of Object.keys(params)) if (!preset.params.some((p) => p.name === k)) errors.push(`unknown param ${k} for preset ${preset.name} (known: ${preset.params.map((p) => p.name).join(", ")})`);
  if (errors.length) return { errors };
  const domain = values.domain!.replace(/\/+$/, "");
  const base = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
  const fill = (url: string) => url.replace(/\{(domain|key|token|path)\}/g, (_m, name: string) => {
    if (name === "domain") return base;
    if (name === "path") return `/${values.path!.replace(/^\/+/, "")}`;
    return encodeURIComponent(values[name]!);
  });
  return { templates: Object.fromEntries(STATUSES.map((s) => [s, fill(preset.templates[s])])) as Record<Status, string> };
}
