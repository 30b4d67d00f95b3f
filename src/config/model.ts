import type { Status } from "../domain/status.ts";
import type { CompiledText, EventTemplates } from "../domain/templates.ts";

export type Synchronous = "OFF" | "NORMAL" | "FULL" | "EXTRA";

export interface DeliveryConfig {
  timeout_ms: number;
  max_in_flight: number;
  per_host_in_flight: number;
  /** Hostnames or CIDRs the address guard lets through although they are not public. */
  allow_hosts: string[];
  /** Wait before each attempt; its length is the number of attempts (SPEC §4 ladder by default). */
  retry_ladder_ms: number[];
  /** ±fraction applied to each non-zero step. */
  jitter: number;
  /** How long a claimed row belongs to its claimer; must outlast one attempt. */
  lease_ms: number;
  max_redirects: number;
  circuit_failures: number;
  circuit_cooldown_ms: number;
  /** Delivered rows and their attempts older than this are pruned. */
  retention_ms: number;
  shutdown_grace_ms: number;
}

export interface BotConfig {
  name: string;
  token: string;
  mode: "polling" | "webhook";
  api_root: string | null;
  secret: string | null;
  /** Bot API sends per second at most (welcomes, join-request approvals, invite links). */
  max_per_second: number;
  /** Send with Telegram's allow_paid_broadcast (billed in Stars) and a default of 1000 sends/s. */
  paid_broadcast: boolean;
}

export interface Payout {
  payout: string;
  currency: string;
}

export interface WelcomeConfig {
  /** Telegram legacy Markdown, with the welcome macros ({invite} included). */
  text: CompiledText;
  /** A local photo or video sent with the text as its caption; its file_id is cached per bot. */
  media: { kind: "photo" | "video"; path: string } | null;
  /** An inline URL button under the message (the CPA button). */
  button: { text: string; url: CompiledText } | null;
}

export interface CampaignConfig {
  code: string;
  name: string;
  bot: string | null;
  chat: number | null;
  paused: boolean;
  /** 0 = the window never closes. */
  unsub_window_ms: number;
  /** null: the global templates apply. */
  postbacks: EventTemplates | null;
  payouts: Partial<Record<Status, Payout>>;
  welcome: WelcomeConfig | null;
  /** Approve join requests to the campaign's chat through the Bot API. */
  auto_approve: boolean;
  /** Whether the campaign's invite link asks to join (join request) or lets people in at once. */
  join_request: boolean;
}

export interface DestinationConfig {
  name: string;
  preset: string;
  params: Record<string, string>;
  /** How its answers are judged: the preset's reading (default), the HTTP status alone, or not at all. */
  verdict: "preset" | "status" | "none";
}

export interface Config {
  /** Absolute path of the file this config came from, if any; relative paths inside it are taken from its folder. */
  source: string | null;
  /** trusted_proxies: addresses or CIDRs whose X-Forwarded-For is believed (see http/client-address.ts). */
  server: { host: string; port: number; public_url: string | null; trusted_proxies: string[] };
  /** busy_timeout_ms: how long a write waits for a lock held by another process before failing (503). */
  storage: { path: string; synchronous: Synchronous; busy_timeout_ms: number };
  /** Requests per minute per client address on the public endpoints; 0 turns a limit off. */
  rate_limits: {
    inbound_per_minute: number;
    /** Requests to /api/postback without a valid key: tighter, and each one is logged. */
    inbound_bad_key_per_minute: number;
    webhook_per_minute: number;
  };
  /** format: json lines for machines (the default), pretty for people reading a terminal or journalctl. */
  log: { level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent"; format: "json" | "pretty" };
  /** timezone: IANA name the dashboard and GET /api/stats count days in by default; session_ttl_ms: how long a dashboard sign-in lasts. */
  dashboard: { timezone: string; session_ttl_ms: number };
  account_id: string;
  api_keys: string[];
  inbound_keys: string[];
  /** Enables the built-in demo tracker endpoint (/demo/postback); meant for the example config only. */
  demo_tracker: boolean;
  delivery: DeliveryConfig;
  bots: Record<string, BotConfig>;
  destinations: Record<string, DestinationConfig>;
  postbacks: EventTemplates;
  campaigns: CampaignConfig[];
}
