// The config as the service uses it. Its structure comes from the schema (schema.ts, Static<>);
// what validate.ts makes of a key (a duration in ms, compiled templates, a default taken from
// another key) is written here.
import type { Status } from "../domain/status.ts";
import type { CompiledText, EventTemplates } from "../domain/templates.ts";
import type { ConfigFile } from "./schema.ts";

export type Synchronous = ConfigFile["storage"]["synchronous"];

export type DeliveryConfig = Omit<ConfigFile["delivery"], "retry_ladder" | "lease_ms" | "circuit_cooldown" | "retention"> & {
  /** Wait before each attempt, ms; its length is the number of attempts (SPEC §4 ladder by default). */
  retry_ladder_ms: number[];
  /** How long a claimed row belongs to its claimer, ms; must outlast one attempt. */
  lease_ms: number;
  circuit_cooldown_ms: number;
  /** Delivered rows and their attempts older than this (ms) are pruned. */
  retention_ms: number;
};

/**
 * A bot's Bot API sends per second by default: Telegram allows about 30/s (the default keeps a
 * margin below), and up to 1000 messages/s sent as paid broadcasts.
 */
export const BOT_SENDS_PER_SECOND = { free: 25, paid: 1000 } as const;

export type BotConfig = Omit<ConfigFile["bots"][string], "max_per_second"> & {
  name: string;
  /** Bot API sends per second at most (welcomes, join-request approvals, invite links). */
  max_per_second: number;
};

export type Payout = NonNullable<ConfigFile["campaigns"][number]["payouts"][Status]>;

export interface WelcomeConfig {
  /** Telegram legacy Markdown, with the welcome macros ({invite} included). */
  text: CompiledText;
  /** A local photo or video sent with the text as its caption; its file_id is cached per bot. */
  media: { kind: "photo" | "video"; path: string } | null;
  /** An inline URL button under the message (the CPA button). */
  button: { text: string; url: CompiledText } | null;
}

/** One welcome of a campaign; a plain `welcome:` is a single variant named "". */
export interface WelcomeVariant extends WelcomeConfig {
  name: string;
  languages: string[];
  weight: number;
}

type CampaignFile = ConfigFile["campaigns"][number];

export type CampaignConfig = Omit<CampaignFile, "name" | "unsub_window" | "postbacks" | "payouts" | "welcome" | "costs" | "approve_after" | "join_requests"> & {
  /** The approve postback waits this long after the join, ms (0: at once). */
  approve_after_ms: number;
  /** How the bot answers join requests (auto_approve folded in as approve_after 0); null: left to the admins. */
  join_requests: import("../domain/approval-rules.ts").JoinRequestRules | null;
  /** Costs per day from the config, amounts in millionths of the currency. */
  costs: { day: string; micros: number; currency: string }[];
  /** The code unless named. */
  name: string;
  /** 0 = the window never closes. */
  unsub_window_ms: number;
  /** null: the global templates apply. */
  postbacks: EventTemplates | null;
  payouts: Partial<Record<Status, Payout>>;
  /** The variants (at least one), or null for no welcome. */
  welcome: WelcomeVariant[] | null;
};

export interface DestinationConfig {
  name: string;
  preset: string;
  params: Record<string, string>;
  /** How its answers are judged: the preset's reading (default), the HTTP status alone, or not at all. */
  verdict: ConfigFile["destinations"][string]["verdict"];
}

/** The alerts that can fire, each with the threshold it fires after. */
export const ALERT_KINDS = ["bot_down", "bot_rights", "host_failing", "no_starts", "storage_unwritable"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertsConfig {
  telegram: { bot: string; chat: number } | null;
  webhook: { url: string; format: "json" | "slack" | "discord" } | null;
  /** How long each cause must last before its alert fires, ms; null: that alert is off. */
  after_ms: Record<AlertKind, number | null>;
  /** The digest's local time; null: no digest. */
  digest: { hour: number; minute: number } | null;
  /** Canonical IANA name (alerts.timezone, else dashboard.timezone). */
  timezone: string;
  spacing_ms: number;
  recover_after_ms: number;
  check_every_ms: number;
}

export type Config = Pick<ConfigFile, "server" | "storage" | "rate_limits" | "log" | "account_id" | "api_keys" | "inbound_keys" | "demo_tracker"> & {
  /** Absolute path of the file this config came from, if any; relative paths inside it are taken from its folder. */
  source: string | null;
  /** timezone: canonical IANA name; session_ttl_ms: how long a dashboard sign-in lasts; click_groups: the click parameters counted per value. */
  dashboard: { timezone: string; session_ttl_ms: number; click_groups: string[] };
  delivery: DeliveryConfig;
  bots: Record<string, BotConfig>;
  destinations: Record<string, DestinationConfig>;
  postbacks: EventTemplates;
  campaigns: CampaignConfig[];
  /** null: no alerts. */
  alerts: AlertsConfig | null;
};
