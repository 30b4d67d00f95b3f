import ipaddr from "ipaddr.js";
import { STATUSES, type Status } from "../domain/status.ts";
import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import {
  POSTBACK_MACROS, WELCOME_MACROS, compileText, emptyTemplates, loneMacroParams, renderRequest, renderText, welcomeUrlEncode,
  type CompiledText, type EventTemplates, type JsonTemplate, type MacroValues, type Template,
} from "../domain/templates.ts";
import { Checker, formatPath, type ConfigPath } from "./checker.ts";
import { PRESETS, VERDICT_MODES, fillPreset, presetByName, verdictName } from "../presets/presets.ts";
import { canonicalTimeZone } from "../lib/time-zones.ts";
import type { BotConfig, CampaignConfig, Config, DeliveryConfig, DestinationConfig, Payout, WelcomeConfig } from "./model.ts";

export const DEFAULT_RETRY_LADDER = ["0s", "10s", "1m", "5m", "30m", "2h", "6h", "12h", "24h"];
export const CAMPAIGN_CODE = /^[A-Za-z0-9_]{1,63}$/;

const SAMPLE_VALUES: MacroValues = Object.fromEntries(POSTBACK_MACROS.map((m) => [m, "x"])) as MacroValues;

/** Turns the parsed (and env-substituted) YAML into a Config; problems go to the checker. */
export function buildConfig(raw: unknown, c: Checker, source: string | null): Config | undefined {
  const root = c.object(raw, [], [
    "server", "storage", "log", "account_id", "api_keys", "inbound_keys", "demo_tracker",
    "delivery", "bots", "destinations", "postbacks", "campaigns", "rate_limits", "dashboard",
  ]);
  if (!root) return undefined;

  const server = c.object(root.server, ["server"], ["host", "port", "public_url", "trusted_proxies"]) ?? {};
  const storage = c.object(root.storage, ["storage"], ["path", "synchronous", "busy_timeout_ms"]) ?? {};
  const limits = c.object(root.rate_limits, ["rate_limits"], ["inbound_per_minute", "inbound_bad_key_per_minute", "webhook_per_minute"]) ?? {};
  const log = c.object(root.log, ["log"], ["level", "format"]) ?? {};
  const dashboard = c.object(root.dashboard, ["dashboard"], ["timezone", "session_ttl"]) ?? {};
  const publicUrl = server.public_url == null ? null : c.string(server.public_url, ["server", "public_url"]);
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) c.fail(["server", "public_url"], "must be an http(s) URL");

  const apiKeys = c.strings(root.api_keys, ["api_keys"]);
  if (apiKeys.length === 0 && !c.issues.some((i) => i.path.startsWith("api_keys"))) {
    c.fail(["api_keys"], "at least one API key is required to protect /api");
  }

  // Relative paths (storage, media) belong to the config file, not to the working directory (`/` under systemd).
  const inConfigFolder = (path: string) => (source === null || path === ":memory:" || isAbsolute(path) ? path : resolve(dirname(source), path));
  const bots = readBots(root.bots, c);
  const destinations = readDestinations(root.destinations, c);
  const config = {
    source,
    server: {
      host: c.string(server.host, ["server", "host"], "0.0.0.0")!,
      port: c.int(server.port, ["server", "port"], 8080, 0, 65535)!,
      public_url: publicUrl?.replace(/\/+$/, "") ?? null,
      trusted_proxies: readAddresses(server.trusted_proxies, ["server", "trusted_proxies"], c),
    },
    storage: {
      path: inConfigFolder(c.string(storage.path, ["storage", "path"], "data/tgcpa.db")!),
      synchronous: c.oneOf(storage.synchronous, ["storage", "synchronous"], ["OFF", "NORMAL", "FULL", "EXTRA"], "FULL")!,
      busy_timeout_ms: c.int(storage.busy_timeout_ms, ["storage", "busy_timeout_ms"], 5000, 0, 600_000)!,
    },
    rate_limits: {
      inbound_per_minute: c.int(limits.inbound_per_minute, ["rate_limits", "inbound_per_minute"], 600, 0, 10_000_000)!,
      inbound_bad_key_per_minute: c.int(limits.inbound_bad_key_per_minute, ["rate_limits", "inbound_bad_key_per_minute"], 30, 0, 10_000_000)!,
      webhook_per_minute: c.int(limits.webhook_per_minute, ["rate_limits", "webhook_per_minute"], 6000, 0, 10_000_000)!,
    },
    log: {
      level: c.oneOf(log.level, ["log", "level"], ["trace", "debug", "info", "warn", "error", "fatal", "silent"], "info")!,
      format: c.oneOf(log.format, ["log", "format"], ["json", "pretty"], "json")!,
    },
    dashboard: {
      timezone: readTimeZone(dashboard.timezone, ["dashboard", "timezone"], c),
      session_ttl_ms: readSessionTtl(dashboard.session_ttl, ["dashboard", "session_ttl"], c),
    },
    account_id: c.string(root.account_id, ["account_id"], "1")!,
    api_keys: apiKeys,
    inbound_keys: c.strings(root.inbound_keys, ["inbound_keys"]),
    demo_tracker: c.bool(root.demo_tracker, ["demo_tracker"], false)!,
    delivery: readDelivery(root.delivery, c),
    bots,
    destinations: Object.fromEntries([...destinations].map(([k, v]) => [k, v.config])),
    postbacks: readEventTemplates(root.postbacks, ["postbacks"], c, destinations) ?? emptyTemplates(),
    campaigns: readCampaigns(root.campaigns, c, bots, destinations, inConfigFolder),
  } satisfies Config;
  return c.issues.length ? undefined : config;
}

function readTimeZone(value: unknown, path: ConfigPath, c: Checker): string {
  const name = c.string(value, path, "UTC");
  if (name === undefined) return "UTC";
  const canonical = canonicalTimeZone(name);
  if (!canonical) c.fail(path, `unknown time zone "${name}" (an IANA name such as UTC, Europe/Moscow or Asia/Kolkata)`);
  return canonical ?? "UTC";
}

const MINUTE_MS = 60_000;
const MAX_SESSION_MS = 365 * 86_400_000;

function readSessionTtl(value: unknown, path: ConfigPath, c: Checker): number {
  const ms = c.duration(value, path, 7 * 86_400_000);
  if (ms !== undefined && (ms < 5 * MINUTE_MS || ms > MAX_SESSION_MS)) c.fail(path, "must be between 5m and 365d");
  return ms ?? 0;
}

function readDelivery(value: unknown, c: Checker): DeliveryConfig {
  const p = ["delivery"];
  const d = c.object(value, p, [
    "timeout_ms", "max_in_flight", "per_host_in_flight", "allow_hosts", "retry_ladder", "jitter", "lease_ms",
    "max_redirects", "circuit_failures", "circuit_cooldown", "retention", "shutdown_grace_ms",
  ]) ?? {};
  const ladderPath = [...p, "retry_ladder"];
  const ladder = (c.list(d.retry_ladder ?? DEFAULT_RETRY_LADDER, ladderPath) ?? []).map((step, i) => c.duration(step, [...ladderPath, i], 0) ?? 0);
  if (ladder.length === 0) c.fail(ladderPath, "needs at least one step");
  const timeout = c.int(d.timeout_ms, [...p, "timeout_ms"], 10_000, 100, 300_000) ?? 10_000;
  const lease = c.int(d.lease_ms, [...p, "lease_ms"], Math.max(60_000, 2 * timeout), 1, 86_400_000) ?? 60_000;
  if (lease <= timeout) c.fail([...p, "lease_ms"], `must be longer than delivery.timeout_ms (${timeout}), or a slow request would be sent twice`);
  const allowHosts = c.strings(d.allow_hosts, [...p, "allow_hosts"]);
  allowHosts.forEach((h, i) => {
    if (!h.includes("/")) return;
    try {
      ipaddr.parseCIDR(h);
    } catch {
      c.fail([...p, "allow_hosts", i], `"${h}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
    }
  });
  return {
    timeout_ms: timeout,
    max_in_flight: c.int(d.max_in_flight, [...p, "max_in_flight"], 64, 1, 4096)!,
    per_host_in_flight: c.int(d.per_host_in_flight, [...p, "per_host_in_flight"], 8, 1, 4096)!,
    allow_hosts: allowHosts.map((h) => h.toLowerCase()),
    retry_ladder_ms: ladder,
    jitter: c.number(d.jitter, [...p, "jitter"], 0.2, 0, 1)!,
    lease_ms: lease,
    max_redirects: c.int(d.max_redirects, [...p, "max_redirects"], 3, 0, 10)!,
    circuit_failures: c.int(d.circuit_failures, [...p, "circuit_failures"], 5, 1, 1000)!,
    circuit_cooldown_ms: c.duration(d.circuit_cooldown, [...p, "circuit_cooldown"], 60_000)!,
    retention_ms: c.duration(d.retention, [...p, "retention"], 30 * 86_400_000)!,
    shutdown_grace_ms: c.int(d.shutdown_grace_ms, [...p, "shutdown_grace_ms"], 10_000, 0, 600_000)!,
  };
}

function readBots(value: unknown, c: Checker): Record<string, BotConfig> {
  const bots = c.object(value, ["bots"], Object.keys(value && typeof value === "object" ? value : {})) ?? {};
  const out: Record<string, BotConfig> = {};
  for (const [name, raw] of Object.entries(bots)) {
    const p = ["bots", name];
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) c.fail(p, "a bot name is 1-64 characters of A-Z a-z 0-9 _ - (it is part of the webhook URL)");
    const b = c.object(raw, p, ["token", "mode", "api_root", "secret", "max_per_second", "paid_broadcast"]);
    if (!b) continue;
    const paid = c.bool(b.paid_broadcast, [...p, "paid_broadcast"], false)!;
    const token = c.string(b.token, [...p, "token"]);
    if (token !== undefined && !/^\d+:[A-Za-z0-9_-]+$/.test(token)) c.fail([...p, "token"], "does not look like a BotFather token (digits:letters)");
    out[name] = {
      name,
      token: token ?? "",
      mode: c.oneOf(b.mode, [...p, "mode"], ["polling", "webhook"], "polling")!,
      api_root: b.api_root == null ? null : (c.string(b.api_root, [...p, "api_root"]) ?? null),
      secret: b.secret == null ? null : (c.string(b.secret, [...p, "secret"]) ?? null),
      // Telegram allows about 30 sends/s (1000 with paid broadcasts); the default keeps a margin below.
      max_per_second: c.int(b.max_per_second, [...p, "max_per_second"], paid ? 1000 : 25, 1, 1000)!,
      paid_broadcast: paid,
    };
  }
  return out;
}

type Destinations = Map<string, { config: DestinationConfig; templates: Record<Status, string>; verdict?: string }>;

function readDestinations(value: unknown, c: Checker): Destinations {
  const out: Destinations = new Map();
  const o = c.object(value, ["destinations"], Object.keys(value && typeof value === "object" ? value : {})) ?? {};
  for (const [name, raw] of Object.entries(o)) {
    const p = ["destinations", name];
    const d = c.object(raw, p, Object.keys(raw && typeof raw === "object" ? raw : {}));
    if (!d) continue;
    const presetName = c.string(d.preset, [...p, "preset"]);
    if (presetName === undefined) continue;
    const preset = presetByName(presetName);
    if (!preset) {
      c.fail([...p, "preset"], `unknown preset "${presetName}" (known: ${PRESETS.map((x) => x.name).join(", ")})`);
      continue;
    }
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(d)) if (k !== "preset" && k !== "verdict") params[k] = c.string(v, [...p, k]) ?? "";
    const verdict = c.oneOf(d.verdict, [...p, "verdict"], VERDICT_MODES, "preset");
    const filled = fillPreset(preset, params);
    if ("errors" in filled) {
      filled.errors.forEach((e) => c.fail(p, e));
      continue;
    }
    if (!verdict) continue;
    out.set(name, { config: { name, preset: preset.name, params, verdict }, templates: filled.templates, verdict: verdictName(verdict, preset) ?? undefined });
  }
  return out;
}

/** IP addresses or CIDRs, kept as written (lower case); each is checked here so the HTTP layer can trust them. */
function readAddresses(value: unknown, p: ConfigPath, c: Checker): string[] {
  const entries = c.strings(value, p);
  // Four-part decimal only: ipaddr.js would also take "127.1" or "0x7f.0.0.1", which nobody means.
  const valid = (e: string) =>
    ipaddr.IPv4.isValidFourPartDecimal(e) || ipaddr.IPv4.isValidCIDRFourPartDecimal(e) || ipaddr.IPv6.isValid(e) || ipaddr.IPv6.isValidCIDR(e);
  entries.forEach((entry, i) => {
    if (!valid(entry)) c.fail([...p, i], `"${entry}" is not an IP address or a CIDR such as 10.0.0.0/8 or fd00::/8`);
  });
  return entries.map((e) => e.toLowerCase());
}

function readCampaigns(
  value: unknown, c: Checker, bots: Record<string, BotConfig>, destinations: Destinations, inConfigFolder: (path: string) => string,
): CampaignConfig[] {
  const seen = new Map<string, number>();
  return (c.list(value, ["campaigns"]) ?? []).flatMap((raw, i) => {
    const p = ["campaigns", i];
    const o = c.object(raw, p, ["code", "name", "bot", "chat", "paused", "unsub_window", "postbacks", "payouts", "welcome", "auto_approve", "join_request"]);
    if (!o) return [];
    const code = c.string(o.code, [...p, "code"]);
    if (code !== undefined) {
      if (!CAMPAIGN_CODE.test(code)) c.fail([...p, "code"], `"${code}" must be 1-63 characters of A-Z a-z 0-9 _ (no "-": the deep link splits at the first "-")`);
      const twin = seen.get(code);
      if (twin !== undefined) c.fail([...p, "code"], `"${code}" is already used by campaigns[${twin}]`);
      seen.set(code, i);
    }
    const bot = o.bot == null ? null : (c.string(o.bot, [...p, "bot"]) ?? null);
    if (bot !== null && !Object.hasOwn(bots, bot)) c.fail([...p, "bot"], `no bot named "${bot}" under bots`);
    let chat: number | null = null;
    if (o.chat != null) {
      if (typeof o.chat === "number" && Number.isSafeInteger(o.chat)) chat = o.chat;
      else if (typeof o.chat === "string" && /^-?\d+$/.test(o.chat)) chat = Number(o.chat);
      else c.fail([...p, "chat"], "must be a Telegram chat id such as -1001234567890");
    }
    return [{
      code: code ?? "",
      name: c.string(o.name, [...p, "name"], code ?? "")!,
      bot,
      chat,
      paused: c.bool(o.paused, [...p, "paused"], false)!,
      unsub_window_ms: c.duration(o.unsub_window, [...p, "unsub_window"], 0)!,
      postbacks: o.postbacks == null ? null : (readEventTemplates(o.postbacks, [...p, "postbacks"], c, destinations) ?? null),
      payouts: readPayouts(o.payouts, [...p, "payouts"], c),
      welcome: o.welcome == null ? null : (readWelcome(o.welcome, [...p, "welcome"], c, bot, inConfigFolder) ?? null),
      auto_approve: c.bool(o.auto_approve, [...p, "auto_approve"], false)!,
      join_request: c.bool(o.join_request, [...p, "join_request"], false)!,
    }];
  });
}

const WELCOME_SAMPLE = { ...SAMPLE_VALUES, invite: "https://t.me/+sample" };

function readWelcome(value: unknown, p: ConfigPath, c: Checker, bot: string | null, inConfigFolder: (path: string) => string): WelcomeConfig | undefined {
  const o = c.object(value, p, ["text", "photo", "video", "button"]);
  if (!o) return undefined;
  if (bot === null) c.fail(p, "a welcome message needs the campaign's bot");
  const compile = (source: string, path: ConfigPath) => {
    try {
      return compileText(source, WELCOME_MACROS);
    } catch (err) {
      return c.fail(path, (err as Error).message);
    }
  };
  const textSource = c.string(o.text, [...p, "text"]);
  const text = textSource === undefined ? undefined : compile(textSource, [...p, "text"]);
  if (o.photo != null && o.video != null) c.fail(p, "has both photo and video; choose one");
  let media: WelcomeConfig["media"] = null;
  for (const kind of ["photo", "video"] as const) {
    if (o[kind] == null) continue;
    const written = c.string(o[kind], [...p, kind]);
    if (written === undefined) continue;
    const path = inConfigFolder(written);
    if (!existsSync(path)) c.fail([...p, kind], `file ${path} does not exist${path === written ? "" : " (a relative path is taken from the config file's folder)"}`);
    media = { kind, path };
  }
  const limit = media ? 1024 : 4096;
  if (textSource !== undefined && textSource.length > limit) c.fail([...p, "text"], `is longer than Telegram's ${limit} characters${media ? " for a caption" : ""}`);
  let button: WelcomeConfig["button"] = null;
  if (o.button != null) {
    const b = c.object(o.button, [...p, "button"], ["text", "url"]);
    const label = b && c.string(b.text, [...p, "button", "text"]);
    const urlSource = b && c.string(b.url, [...p, "button", "url"]);
    const url = urlSource == null ? undefined : compile(urlSource, [...p, "button", "url"]);
    if (url && !/^https?:\/\//i.test(renderText(url, WELCOME_SAMPLE, welcomeUrlEncode))) c.fail([...p, "button", "url"], "must be an http(s) URL after macro substitution");
    if (label && url) button = { text: label, url };
  }
  return text && { text, media, button };
}


function readPayouts(value: unknown, p: ConfigPath, c: Checker): Partial<Record<Status, Payout>> {
  const o = c.object(value, p, STATUSES) ?? {};
  const out: Partial<Record<Status, Payout>> = {};
  for (const status of STATUSES) {
    if (o[status] == null) continue;
    const e = c.object(o[status], [...p, status], ["payout", "currency"]);
    if (!e) continue;
    out[status] = {
      payout: c.string(e.payout, [...p, status, "payout"], "")!,
      currency: c.string(e.currency, [...p, status, "currency"], "")!,
    };
  }
  return out;
}

/**
 * The five event templates. Each may be a URL, a request object, `{destination: NAME}`, or a list
 * of them; `destination: NAME | [NAMES]` beside them gives every status not listed its preset URL.
 */
function readEventTemplates(value: unknown, p: ConfigPath, c: Checker, destinations: Destinations): EventTemplates | undefined {
  const o = c.object(value, p, [...STATUSES, "destination"]);
  if (!o) return undefined;
  const out = emptyTemplates();
  const names = o.destination == null ? [] : Array.isArray(o.destination) ? o.destination : [o.destination];
  const defaultPath = (i: number): ConfigPath => (Array.isArray(o.destination) ? [...p, "destination", i] : [...p, "destination"]);
  // Each default destination is checked once here, not once per status.
  const defaults = names.flatMap((name, i) => {
    if (typeof name === "string" && destinations.has(name)) return [{ name, path: defaultPath(i) }];
    if (!(typeof name === "string" && c.issues.some((x) => x.path.startsWith(`destinations.${name}`)))) {
      c.fail(defaultPath(i), `no destination named ${JSON.stringify(name)} under destinations`);
    }
    return [];
  });
  for (const status of STATUSES) {
    if (!(status in o)) {
      out[status] = defaults.flatMap((d) => destinationTemplate(d.name, d.path, c, destinations, status) ?? []);
      continue;
    }
    const entry = o[status];
    const entries = Array.isArray(entry) ? entry.map((e, i) => [e, [...p, status, i]] as const) : [[entry, [...p, status]] as const];
    out[status] = entries.flatMap(([e, path]) => {
      const t = readTemplate(e, path, c, destinations, status);
      return t ? [t] : [];
    });
  }
  return out;
}

function destinationTemplate(name: unknown, path: ConfigPath, c: Checker, destinations: Destinations, status: Status): Template | undefined {
  const d = typeof name === "string" ? destinations.get(name) : undefined;
  if (!d) {
    if (typeof name === "string" && c.issues.some((i) => i.path.startsWith(`destinations.${name}`))) return undefined; // already reported
    return c.fail(path, `no destination named ${JSON.stringify(name)} under destinations`);
  }
  const url = compileAt(d.templates[status], path, c);
  return url && {
    label: `destinations.${d.config.name}.${status}`, method: "GET", url, destination: d.config.name,
    omitWhenEmpty: loneMacroParams(url.source), ...(d.verdict ? { verdict: d.verdict } : {}),
  };
}

function compileAt(source: string, path: ConfigPath, c: Checker): CompiledText | undefined {
  try {
    return compileText(source);
  } catch (err) {
    return c.fail(path, (err as Error).message);
  }
}

function readTemplate(value: unknown, path: ConfigPath, c: Checker, destinations: Destinations, status: Status): Template | undefined {
  if (value === undefined || value === null || value === "") return undefined; // empty = no postback
  const label = formatPath(path);
  let template: Template | undefined;
  if (value && typeof value === "object" && "destination" in value) {
    c.object(value, path, ["destination"]);
    template = destinationTemplate((value as { destination: unknown }).destination, [...path, "destination"], c, destinations, status);
  } else if (typeof value === "string") {
    const url = compileAt(value, path, c);
    template = url && { label, method: "GET", url };
  } else {
    const o = c.object(value, path, ["url", "method", "json", "form", "verdict"]);
    if (!o) return undefined;
    const verdict = verdictName(c.oneOf(o.verdict, [...path, "verdict"], VERDICT_MODES, "preset") ?? "preset");
    const urlSource = c.string(o.url, [...path, "url"]);
    const url = urlSource === undefined ? undefined : compileAt(urlSource, [...path, "url"], c);
    const method = c.oneOf(o.method, [...path, "method"], ["GET", "POST"], o.json != null || o.form != null ? "POST" : "GET");
    if (o.json != null && o.form != null) c.fail(path, "has both json and form; choose one body type");
    let body: Template["body"];
    if (o.json != null) {
      const value = compileJson(o.json, [...path, "json"], c);
      body = value === undefined ? undefined : { type: "json", value };
    } else if (o.form != null) {
      const fields = c.object(o.form, [...path, "form"], Object.keys(o.form as object)) ?? {};
      body = {
        type: "form",
        fields: Object.entries(fields).flatMap(([k, v]) => {
          const compiled = compileAt(String(v ?? ""), [...path, "form", k], c);
          return compiled ? [[k, compiled] as [string, CompiledText]] : [];
        }),
      };
    }
    if (body && method === "GET") c.fail([...path, "method"], "a body needs method POST");
    template = url && method ? { label, method, url, ...(body ? { body } : {}), ...(verdict ? { verdict } : {}) } : undefined;
  }
  if (!template) return undefined;
  const sample = renderRequest(template, SAMPLE_VALUES).url;
  if (!/^https?:\/\//i.test(sample) || !URL.canParse(sample)) {
    return c.fail(path, `"${template.url.source}" is not an http(s) URL`);
  }
  return template;
}

function compileJson(value: unknown, path: ConfigPath, c: Checker): JsonTemplate | undefined {
  if (typeof value === "string") return compileAt(value, path, c);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
  if (Array.isArray(value)) return value.map((v, i) => compileJson(v, [...path, i], c) ?? null);
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compileJson(v, [...path, k], c) ?? null]));
  }
  return c.fail(path, "is not a JSON value");
}
