// The campaign keys of issue 22 that a schema cannot say: welcome variants (names, languages, each
// variant checked as a welcome), join_requests with auto_approve folded in, costs per day.
import { existsSync } from "node:fs";
import { POSTBACK_MACROS, WELCOME_MACROS, compileText, renderText, welcomeUrlEncode } from "../domain/templates.ts";
import { isCurrency, isDate, normalCurrency, parseAmount } from "../domain/money.ts";
import { parseDuration } from "../lib/duration.ts";
import type { Checker, ConfigPath } from "./checker.ts";
import type { CampaignConfig, WelcomeConfig, WelcomeVariant } from "./model.ts";
import type { ConfigFile } from "./schema.ts";

const ms = (value: number | string | undefined) => (value === undefined ? 0 : (parseDuration(value) ?? 0));

/**
 * join_requests, with auto_approve folded in: `auto_approve: true` is `join_requests: { approve_after: 0 }`
 * (both at once are refused: one would silently override the other). approve_after and manual exclude each other.
 */
export function readJoinRequests(
  o: ConfigFile["campaigns"][number]["join_requests"], autoApprove: boolean, p: ConfigPath, c: Checker,
): CampaignConfig["join_requests"] {
  if (o === null) return autoApprove ? { approveAfterMs: 0, declineBelow: null, manual: false } : null;
  if (autoApprove) c.fail([...p, "auto_approve"], "is join_requests: { approve_after: 0 }; set one of them");
  if (o.approve_after !== undefined && o.manual) c.fail([...p, "join_requests", "manual"], "holds requests for a person; approve_after approves them: choose one");
  if (o.approve_after === undefined && o.decline_below === undefined && !o.manual) c.fail([...p, "join_requests"], "needs approve_after, decline_below or manual: true");
  return { approveAfterMs: o.approve_after === undefined ? null : ms(o.approve_after), declineBelow: o.decline_below ?? null, manual: o.manual === true };
}

/** A campaign's costs per day: real dates, amounts of 0 or more, ISO currency codes, one per day. */
export function readCosts(costs: ConfigFile["campaigns"][number]["costs"], p: ConfigPath, c: Checker): CampaignConfig["costs"] {
  const days = new Map<string, number>();
  return costs.flatMap((o, i) => {
    if (!o) return [];
    const micros = parseAmount(o.amount);
    const currency = normalCurrency(o.currency);
    if (!isDate(o.date)) c.fail([...p, i, "date"], `"${o.date}" is not a date`);
    else if (days.has(o.date)) c.fail([...p, i, "date"], `${o.date} is already costs[${days.get(o.date)}]`);
    else days.set(o.date, i);
    if (micros === null || micros < 0) c.fail([...p, i, "amount"], `"${o.amount}" is not an amount such as 12.50 (0 or more, up to 6 decimals)`);
    if (!isCurrency(currency)) c.fail([...p, i, "currency"], `"${o.currency}" is not a currency code such as USD or EUR`);
    return micros === null ? [] : [{ day: o.date, micros, currency }];
  });
}

const WELCOME_SAMPLE = { ...Object.fromEntries(POSTBACK_MACROS.map((m) => [m, "x"])), invite: "https://t.me/+sample" };

type WelcomeFile = NonNullable<ConfigFile["campaigns"][number]["welcome"]>;

/** `welcome:` as one message (a single variant named "") or a list of named variants, each checked as a welcome. */
export function readWelcomeVariants(
  o: WelcomeFile, p: ConfigPath, c: Checker, bot: string | null, inConfigFolder: (path: string) => string,
): WelcomeVariant[] | null {
  if (!Array.isArray(o)) {
    const one = readWelcome(o, p, c, bot, inConfigFolder);
    return one ? [{ ...one, name: "", languages: [], weight: 1 }] : null;
  }
  if (bot === null) c.fail(p, "a welcome message needs the campaign's bot");
  const names = new Map<string, number>();
  const variants = o.flatMap((v, i) => {
    if (!v) return [];
    const name = v.name ?? `v${i + 1}`;
    const twin = names.get(name);
    if (twin !== undefined) c.fail([...p, i, "name"], `"${name}" is already the name of welcome[${twin}]`);
    else names.set(name, i);
    v.languages.forEach((l, j) => {
      if (l !== undefined && !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(l)) c.fail([...p, i, "languages", j], `"${l}" is not a language code such as en, ru or pt-BR`);
    });
    // The bot was checked once, for the whole list, above.
    const one = readWelcome(v, [...p, i], c, "", inConfigFolder);
    return one ? [{ ...one, name, languages: v.languages.map((l) => l.toLowerCase()), weight: v.weight }] : [];
  });
  return variants.length ? variants : null;
}

function readWelcome(
  o: Exclude<WelcomeFile, unknown[]>, p: ConfigPath, c: Checker, bot: string | null, inConfigFolder: (path: string) => string,
): WelcomeConfig | undefined {
  if (bot === null) c.fail(p, "a welcome message needs the campaign's bot");
  const compile = (source: string, path: ConfigPath) => {
    try {
      return compileText(source, WELCOME_MACROS);
    } catch (err) {
      return c.fail(path, (err as Error).message);
    }
  };
  const text = o.text === undefined ? undefined : compile(o.text, [...p, "text"]);
  if (o.photo !== undefined && o.video !== undefined) c.fail(p, "has both photo and video; choose one");
  let media: WelcomeConfig["media"] = null;
  for (const kind of ["photo", "video"] as const) {
    const written = o[kind];
    if (written === undefined) continue;
    const path = inConfigFolder(written);
    if (!existsSync(path)) c.fail([...p, kind], `file ${path} does not exist${path === written ? "" : " (a relative path is taken from the config file's folder)"}`);
    media = { kind, path };
  }
  const limit = media ? 1024 : 4096;
  if (o.text !== undefined && o.text.length > limit) c.fail([...p, "text"], `is longer than Telegram's ${limit} characters${media ? " for a caption" : ""}`);
  let button: WelcomeConfig["button"] = null;
  if (o.button) {
    const url = o.button.url === undefined ? undefined : compile(o.button.url, [...p, "button", "url"]);
    if (url && !/^https?:\/\//i.test(renderText(url, WELCOME_SAMPLE, welcomeUrlEncode))) c.fail([...p, "button", "url"], "must be an http(s) URL after macro substitution");
    if (o.button.text && url) button = { text: o.button.text, url };
  }
  return text && { text, media, button };
}


