// The rules a schema cannot say: durations in ms, rules across keys (lease_ms > timeout_ms, a
// campaign's bot must exist, a welcome needs a bot, unique codes, defaults taken from another key),
// macros and templates (validate-templates.ts), presets and destinations, paths taken from the config file's folder, time
// zones, addresses. The structure, defaults, ranges and words come from schema.ts, read by read.ts.
import ipaddr from "ipaddr.js";
import { dirname, isAbsolute, resolve } from "node:path";
import type { Status } from "../domain/status.ts";
import { parseDuration } from "../lib/duration.ts";
import { canonicalTimeZone } from "../lib/time-zones.ts";
import { Checker, formatPath, type ConfigPath } from "./checker.ts";
import { ALERT_KINDS, BOT_SENDS_PER_SECOND, type AlertsConfig, type BotConfig, type CampaignConfig, type Config, type DeliveryConfig, type Payout } from "./model.ts";
import { INVALID, readValue, type JsonSchema } from "./read.ts";
import { webhookUrlProblem } from "./webhook-url.ts";
import { readCosts, readJoinRequests, readWelcomeVariants } from "./validate-campaign.ts";
import { CLICK_TOKEN_LENGTH, MAX_CLICK_LINK_CODE } from "../domain/click-link.ts";
import { ConfigFileSchema, type ConfigFile } from "./schema.ts";
import { readDestinations, readEventTemplates, type Destinations } from "./validate-templates.ts";

/** Milliseconds of a duration the schema has already accepted (a refused one reads as 0: the config is discarded then). */
const ms = (value: number | string | undefined) => (value === undefined ? 0 : (parseDuration(value) ?? 0));

/** Turns the parsed (and env-substituted) YAML into a Config; problems go to the checker. */
export function buildConfig(raw: unknown, c: Checker, source: string | null): Config | undefined {
  const read = readValue(ConfigFileSchema as JsonSchema, raw, [], c);
  if (read === INVALID || read === undefined) return undefined;
  const file = read as ConfigFile;

  // Relative paths (storage, media) belong to the config file, not to the working directory (`/` under systemd).
  const inConfigFolder = (path: string) => (source === null || path === ":memory:" || isAbsolute(path) ? path : resolve(dirname(source), path));
  const destinations = readDestinations(file.destinations, c);
  const config = {
    source,
    server: {
      ...file.server,
      public_url: file.server.public_url?.replace(/\/+$/, "") ?? null,
      trusted_proxies: checkAddresses(file.server.trusted_proxies, ["server", "trusted_proxies"], c),
    },
    storage: { ...file.storage, path: inConfigFolder(file.storage.path), url: readStorageUrl(file.storage, c) },
    rate_limits: file.rate_limits,
    log: file.log,
    dashboard: {
      timezone: readTimeZone(file.dashboard.timezone, ["dashboard", "timezone"], c),
      session_ttl_ms: readSessionTtl(file.dashboard.session_ttl, ["dashboard", "session_ttl"], c),
      click_groups: readClickGroups(file.dashboard.click_groups, ["dashboard", "click_groups"], c),
    },
    account_id: file.account_id,
    api_keys: file.api_keys,
    inbound_keys: file.inbound_keys,
    demo_tracker: file.demo_tracker,
    delivery: readDelivery(file.delivery, c),
    bots: readBots(file.bots, file.server.public_url?.replace(/\/+$/, "") ?? null, c),
    destinations: Object.fromEntries([...destinations].map(([k, v]) => [k, v.config])),
    postbacks: readEventTemplates(file.postbacks, ["postbacks"], c, destinations),
    campaigns: readCampaigns(file.campaigns, c, file.bots, destinations, inConfigFolder),
    alerts: readAlerts(file, c),
  } satisfies Config;
  return c.issues.length ? undefined : config;
}

/** storage.url: required with the postgres driver, and a URL with a host; never repeated in a message (it holds a password). */
function readStorageUrl(storage: ConfigFile["storage"], c: Checker): string | null {
  const path: ConfigPath = ["storage", "url"];
  if (storage.url === null) {
    // A refused URL reads as its default (null) here; it is reported once, by the reader.
    const refused = c.issues.some((i) => i.path === formatPath(path));
    if (storage.driver === "postgres" && !refused) c.fail(path, "is required with storage.driver: postgres (postgres://USER:PASSWORD@HOST:5432/DATABASE)");
    return null;
  }
  let host = "";
  try {
    host = new URL(storage.url).hostname;
  } catch {
    // A refused value is not repeated: it may hold the password.
  }
  if (!host) c.fail(path, "is not a URL with a host, such as postgres://USER:PASSWORD@HOST:5432/DATABASE");
  return storage.url;
}

function readTimeZone(name: string, path: ConfigPath, c: Checker): string {
  const canonical = canonicalTimeZone(name);
  if (!canonical) c.fail(path, `unknown time zone "${name}" (an IANA name such as UTC, Europe/Moscow or Asia/Kolkata)`);
  return canonical ?? "UTC";
}

/** At most this many click parameters are counted per lead event (each is one counter upsert in its transaction). */
const MAX_CLICK_GROUPS = 20;

function readClickGroups(names: string[], path: ConfigPath, c: Checker): string[] {
  if (names.length > MAX_CLICK_GROUPS) c.fail(path, `lists ${names.length} parameters; at most ${MAX_CLICK_GROUPS} (each is counted in every lead event's transaction)`);
  names.forEach((name, i) => {
    if (name !== undefined && names.indexOf(name) !== i) c.fail([...path, i], `"${name}" is listed twice`);
  });
  return names.filter((n) => n !== undefined);
}

const MINUTE_MS = 60_000;

/** alerts: where they go (at least one way), the bot that sends them, thresholds in ms, the digest's time. */
function readAlerts(file: ConfigFile, c: Checker): AlertsConfig | null {
  const a = file.alerts;
  if (!a) return null;
  const p: ConfigPath = ["alerts"];
  if (!a.telegram && !a.webhook) c.fail(p, "names no destination: add telegram: {bot, chat} and/or webhook: {url}");
  if (a.telegram?.bot !== undefined && !Object.hasOwn(file.bots, a.telegram.bot)) c.fail([...p, "telegram", "bot"], `no bot named "${a.telegram.bot}" under bots`);
  if (a.webhook?.url !== undefined && !URL.canParse(a.webhook.url)) c.fail([...p, "webhook", "url"], "is not a URL"); // not repeated: it is a secret
  const checkEvery = ms(a.check_every);
  if (checkEvery < 10_000 || checkEvery > 3_600_000) c.fail([...p, "check_every"], "must be between 10s and 1h");
  const [hour, minute] = a.digest?.split(":").map(Number) ?? [];
  return {
    telegram: a.telegram, webhook: a.webhook,
    after_ms: Object.fromEntries(ALERT_KINDS.map((k) => [k, String(a[k]).trim() === "off" ? null : ms(a[k])])) as AlertsConfig["after_ms"],
    digest: hour === undefined || minute === undefined ? null : { hour, minute },
    timezone: a.timezone === null ? readTimeZone(file.dashboard.timezone, ["dashboard", "timezone"], new Checker()) : readTimeZone(a.timezone, [...p, "timezone"], c),
    spacing_ms: ms(a.spacing), recover_after_ms: ms(a.recover_after), check_every_ms: checkEvery,
  };
}
const MAX_SESSION_MS = 365 * 86_400_000;

function readSessionTtl(value: number | string, path: ConfigPath, c: Checker): number {
  const ttl = ms(value);
  if (ttl < 5 * MINUTE_MS || ttl > MAX_SESSION_MS) c.fail(path, "must be between 5m and 365d");
  return ttl;
}

function readDelivery(d: ConfigFile["delivery"], c: Checker): DeliveryConfig {
  const { retry_ladder, lease_ms, circuit_cooldown, retention, ...rest } = d;
  const lease = lease_ms ?? Math.max(60_000, 2 * d.timeout_ms);
  if (lease <= d.timeout_ms) c.fail(["delivery", "lease_ms"], `must be longer than delivery.timeout_ms (${d.timeout_ms}), or a slow request would be sent twice`);
  d.allow_hosts.forEach((h, i) => {
    if (!h?.includes("/")) return;
    try {
      ipaddr.parseCIDR(h);
    } catch {
      c.fail(["delivery", "allow_hosts", i], `"${h}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
    }
  });
  return {
    ...rest,
    allow_hosts: d.allow_hosts.map((h) => h?.toLowerCase()), // h: undefined where an item was refused
    retry_ladder_ms: retry_ladder.map(ms),
    lease_ms: lease,
    circuit_cooldown_ms: ms(circuit_cooldown),
    retention_ms: ms(retention),
  };
}

function readBots(bots: ConfigFile["bots"], publicUrl: string | null, c: Checker): Record<string, BotConfig> {
  // Reported once, where the fix goes: on server.public_url when it is set but unusable, else on the first webhook bot's mode.
  const webhookBot = Object.entries(bots).find(([, b]) => b?.mode === "webhook" && !b.api_root);
  const problem = webhookBot ? webhookUrlProblem(publicUrl) : null;
  if (webhookBot && problem) c.fail(publicUrl === null ? ["bots", webhookBot[0], "mode"] : ["server", "public_url"], publicUrl === null ? problem : `${problem} (bots.${webhookBot[0]} is in webhook mode)`);
  // A refused bot is still named (read.ts keeps its key): campaigns that use it are not refused twice.
  return Object.fromEntries(Object.entries(bots).filter(([, b]) => b).map(([name, b]) => [name, {
    name,
    ...b,
    token: b.token ?? "",
    max_per_second: b.max_per_second ?? (b.paid_broadcast ? BOT_SENDS_PER_SECOND.paid : BOT_SENDS_PER_SECOND.free),
  }]));
}

/** IP addresses or CIDRs, kept as written (lower case); each is checked here so the HTTP layer can trust them. */
function checkAddresses(entries: string[], p: ConfigPath, c: Checker): string[] {
  // Four-part decimal only: ipaddr.js would also take "127.1" or "0x7f.0.0.1", which nobody means.
  const valid = (e: string) =>
    ipaddr.IPv4.isValidFourPartDecimal(e) || ipaddr.IPv4.isValidCIDRFourPartDecimal(e) || ipaddr.IPv6.isValid(e) || ipaddr.IPv6.isValidCIDR(e);
  entries.forEach((entry, i) => {
    if (entry !== undefined && !valid(entry)) c.fail([...p, i], `"${entry}" is not an IP address or a CIDR such as 10.0.0.0/8 or fd00::/8`);
  });
  return entries.map((e) => e?.toLowerCase());
}

function readCampaigns(
  campaigns: ConfigFile["campaigns"], c: Checker, bots: ConfigFile["bots"], destinations: Destinations, inConfigFolder: (path: string) => string,
): CampaignConfig[] {
  const seen = new Map<string, number>();
  return campaigns.flatMap((o, i) => {
    if (!o) return []; // refused as a whole (not a mapping)
    const p = ["campaigns", i];
    const { code, unsub_window, postbacks, payouts, welcome, costs, approve_after, join_requests, ...rest } = o;
    if (code !== undefined) {
      const twin = seen.get(code);
      if (twin !== undefined) c.fail([...p, "code"], `"${code}" is already used by campaigns[${twin}]`);
      else seen.set(code, i);
    }
    if (o.bot !== null && !Object.hasOwn(bots, o.bot)) c.fail([...p, "bot"], `no bot named "${o.bot}" under bots`);
    checkClickLinkCode(o, p, c);
    return [{
      ...rest,
      code,
      name: o.name ?? code ?? "",
      unsub_window_ms: ms(unsub_window),
      postbacks: postbacks === null ? null : readEventTemplates(postbacks, [...p, "postbacks"], c, destinations),
      payouts: Object.fromEntries(Object.entries(payouts).filter(([, v]) => v)) as Partial<Record<Status, Payout>>,
      welcome: welcome === null ? null : readWelcomeVariants(welcome, [...p, "welcome"], c, o.bot, inConfigFolder),
      costs: readCosts(costs, [...p, "costs"], c),
      approve_after_ms: ms(approve_after),
      join_requests: readJoinRequests(join_requests, o.auto_approve, p, c),
    }];
  });
}

/**
 * The click link puts `<code>-<token>` in the Start payload, which Telegram carries only up to 64
 * characters: a code too long for it is refused where it is written, not found out by a visitor.
 */
function checkClickLinkCode(o: ConfigFile["campaigns"][number], p: ConfigPath, c: Checker) {
  if (o.bot === null || o.click_link.mode === "off" || o.code === undefined || o.code.length <= MAX_CLICK_LINK_CODE) return;
  c.fail([...p, "code"], `"${o.code}" is ${o.code.length} characters: the click link's Start payload (code, "-", a ${CLICK_TOKEN_LENGTH}-character token) `
    + `would be ${o.code.length + 1 + CLICK_TOKEN_LENGTH}, and Telegram carries at most 64; shorten the code to ${MAX_CLICK_LINK_CODE} characters or set click_link.mode: off`);
}
