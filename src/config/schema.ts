// The config file's structure, written once: every key with its type, default, range and meaning.
// read.ts reads the YAML against it, model.ts takes the types from it (Static<>), json-schema.ts
// publishes it for editors. What a schema cannot say (macros, presets, durations in ms, cross-field
// rules, paths, time zones) is in validate.ts. Its builders are in schema-builders.ts, `alerts:` in schema-alerts.ts.
import { Type, type SchemaOptions, type Static } from "@sinclair/typebox";
import { AD_PLATFORMS } from "../adplatforms/index.ts";
import { PRESETS, VERDICT_MODES } from "../presets/presets.ts";
import { AlertsSchema } from "./schema-alerts.ts";
import { MIN_KEY_LENGTH, duration, int, mapping, nullable, oneOf, secretKey, withDefault, words } from "./schema-builders.ts";

export { DURATION_PATTERN, MIN_KEY_LENGTH } from "./schema-builders.ts";

const DEFAULT_RETRY_LADDER = ["0s", "10s", "1m", "5m", "30m", "2h", "6h", "12h", "24h"];
const CAMPAIGN_CODE = "^[A-Za-z0-9_]{1,63}$";
/** A query parameter's name as a `{param:NAME}` macro spells it. */
const CLICK_PARAM = "^[A-Za-z0-9_.~-]{1,64}$";

const ServerSchema = mapping({
  host: withDefault(Type.String({ description: "address the HTTP API listens on" }), "0.0.0.0"),
  port: withDefault(int(0, 65535, { description: "port the HTTP API listens on" }), 8080),
  public_url: nullable(Type.String({ pattern: "^https?://[^/]+", errorMessage: "must be an http(s) URL" }), {
    description: "the public HTTPS base URL (for Telegram webhooks); a trailing / is dropped",
  }),
  trusted_proxies: words({
    description: "addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (e.g. [127.0.0.1, \"::1\"])",
  }),
  metrics_public: withDefault(Type.Boolean({
    description: "true: GET /metrics answers anyone who reaches the port; false: it needs an API key (Authorization: Bearer KEY, as Prometheus' authorization setting sends it, or ?key=)",
  }), true),
}, { default: {}, description: "the HTTP server (a change needs a restart)" });

const StorageSchema = mapping({
  path: withDefault(Type.String({ description: "SQLite file, relative to the config file's folder; :memory: for none" }), "data/tgcpa.db"),
  synchronous: withDefault(oneOf(["OFF", "NORMAL", "FULL", "EXTRA"], {
    description: "SQLite synchronous: FULL (or EXTRA) answers a write once it is on the disk; NORMAL may lose the last commits on power loss",
  }), "FULL"),
  busy_timeout_ms: withDefault(int(0, 600_000, { description: "how long a write waits for a lock held by another process before failing (503), ms" }), 5000),
  driver: withDefault(oneOf(["sqlite", "postgres"], {
    description: "sqlite: one file (storage.path), one process; postgres: a PostgreSQL database (storage.url) that several instances share",
  }), "sqlite"),
  url: nullable(Type.String({
    pattern: "^postgres(ql)?://", errorMessage: "must be a postgres:// or postgresql:// URL", writeOnly: true,
  }), { description: "PostgreSQL URL, needed with driver postgres: postgres://USER:${TGCPA_PG_PASSWORD}@HOST:5432/DATABASE (its password is never shown)" }),
  pool_size: withDefault(int(1, 1000, { description: "PostgreSQL connections this instance opens at most (driver postgres)" }), 10),
  idempotency_mib_per_api_key: withDefault(int(1, 65_536, {
    description: "MiB the stored answers of POST /api/events' Idempotency-Keys may take per API key (the oldest go first; kept 24 h at most); a reload applies it to the next key",
  }), 64),
}, { default: {}, description: "the database (a change needs a restart, but for idempotency_mib_per_api_key)" });

const RateLimitsSchema = mapping({
  inbound_per_minute: withDefault(int(0, 10_000_000, { description: "requests per minute per client address on /api/postback; 0 = off" }), 600),
  inbound_bad_key_per_minute: withDefault(int(0, 10_000_000, {
    description: "requests per minute per client address to /api/postback without a valid key (each one is logged); 0 = off",
  }), 30),
  webhook_per_minute: withDefault(int(0, 10_000_000, { description: "requests per minute per client address on /telegram/{bot}; 0 = off" }), 6000),
  requests_in_progress_per_client: withDefault(int(0, 1_000_000, {
    description: "requests in progress at once per client address without a valid API key or session (sign-in, inbound postbacks, webhooks; Telegram opens up to 40); past it 429; 0 = off",
  }), 128),
  api_key_failures_per_minute: withDefault(int(0, 10_000_000, {
    description: "wrong API keys per minute per client address (Authorization: Bearer, ?key=, the dashboard sign-in); past it the address's keys get 429 unchecked; 0 = off",
  }), 20),
  api_key_failures_all_per_minute: withDefault(int(0, 10_000_000, {
    description: "wrong API keys per minute from all addresses together; past it addresses without a valid key in the last hour get 429; 0 = off",
  }), 200),
  click_per_minute: withDefault(int(0, 10_000_000, {
    description: "clicks recorded per minute per client address by the click link /c/{campaign}; past it the visitor is still sent to the bot, without a click (so without attribution); 0 = off",
  }), 120),
}, { default: {}, description: "requests per minute per client address on the public endpoints, and wrong API keys" });

const LogSchema = mapping({
  level: withDefault(oneOf(["trace", "debug", "info", "warn", "error", "fatal", "silent"], { description: "pino level" }), "info"),
  format: withDefault(oneOf(["json", "pretty"], {
    description: "json: one JSON object a line, for log collectors; pretty: one readable line per event, in local time",
  }), "json"),
  access: withDefault(Type.Boolean({
    description: "one info line per HTTP request: method, route, status, duration_ms, client (secret query values redacted)",
  }), true),
}, { default: {} });

const DashboardSchema = mapping({
  timezone: withDefault(Type.String({
    description: "IANA time zone the dashboard and GET /api/stats count days in by default (e.g. Europe/Moscow; offsets are refused)",
  }), "UTC"),
  session_ttl: withDefault(duration({ description: "how long a dashboard sign-in lasts (5m … 365d)" }), "7d"),
  click_groups: withDefault(Type.Array(Type.String({ pattern: CLICK_PARAM, errorMessage: "must be a query parameter name of 1-64 characters A-Z a-z 0-9 _ . ~ -" }), {
    description: "click parameters (at most 20) the funnel can be grouped by (GET /api/stats?group=NAME, the overview's Group by), counted from the moment they are listed; keep unique ids (a click id in sub1) out: each value is counted apart",
  }), ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "sub1", "sub2", "sub3", "sub4", "sub5"]),
}, { default: {} });

const DeliverySchema = mapping({
  timeout_ms: withDefault(int(100, 300_000, { description: "one attempt, all redirects included, ms" }), 10_000),
  max_in_flight: withDefault(int(1, 4096, { description: "requests to trackers in flight in total (a bot's sends have their own cap)" }), 64),
  per_host_in_flight: withDefault(int(1, 4096, { description: "requests in flight per tracker host" }), 8),
  allow_hosts: words({ description: "hostnames or CIDRs the address guard lets through although they are not public" }),
  // An empty step (`- ` in YAML) has always read as 0s.
  retry_ladder: withDefault(Type.Array(duration({ default: 0 }), {
    minItems: 1, errorMessage: "needs at least one step", description: "wait before each attempt; its length is the number of attempts",
  }), DEFAULT_RETRY_LADDER),
  jitter: withDefault(Type.Number({ minimum: 0, maximum: 1, description: "± fraction applied to each non-zero step of the ladder" }), 0.2),
  lease_ms: Type.Optional(int(1, 86_400_000, {
    description: "how long a claimed row belongs to this process, ms; must exceed timeout_ms (default: max(60000, 2 × timeout_ms))",
  })),
  max_redirects: withDefault(int(0, 10, { description: "redirects followed per attempt, each re-checked by the address guard" }), 3),
  circuit_failures: withDefault(int(1, 1000, { description: "failures in a row that pause a host" }), 5),
  circuit_cooldown: withDefault(duration({ description: "how long a host is paused after circuit_failures" }), "1m"),
  retention: withDefault(duration({ description: "delivered postbacks, attempt logs, inbound log rows and journal entries older than this are pruned" }), "30d"),
  shutdown_grace_ms: withDefault(int(0, 600_000, { description: "on SIGTERM, how long in-flight requests may finish, ms" }), 10_000),
}, { default: {}, description: "the outbox dispatcher" });

const BotSchema = mapping({
  token: Type.String({
    pattern: "^\\d+:[A-Za-z0-9_-]+$", errorMessage: "does not look like a BotFather token (digits:letters)", writeOnly: true,
    description: "the BotFather token; use ${TG_BOT_TOKEN}",
  }),
  mode: withDefault(oneOf(["polling", "webhook"], { description: "webhook needs server.public_url" }), "polling"),
  api_root: nullable(Type.String(), { description: "a local Bot API server instead of api.telegram.org" }),
  secret: nullable(Type.String({ writeOnly: true }), { description: "webhook secret; derived from the token if unset" }),
  max_per_second: Type.Optional(int(1, 1000, {
    description: "Bot API sends per second at most (welcomes, join-request approvals, invite links); default 25, 1000 with paid_broadcast (approvals then stay at 25 or less)",
  })),
  paid_broadcast: withDefault(Type.Boolean({
    description: "send with Telegram's allow_paid_broadcast: up to 1000 messages/s, billed by Telegram in Stars over the free 30/s",
  }), false),
});

/**
 * Every param some preset takes, each once (a preset refuses those it does not take, see presets.ts
 * and adplatforms/config.ts). An ad platform's token or secret is write-only: editors never show it.
 */
const presetParams = () => {
  const params = new Map<string, { uses: string[]; secret: boolean }>();
  for (const preset of [...PRESETS, ...AD_PLATFORMS]) {
    for (const p of preset.params as { name: string; description: string; secret?: boolean }[]) {
      const known = params.get(p.name) ?? { uses: [], secret: false };
      params.set(p.name, { uses: [...known.uses, `${preset.name}: ${p.description}`], secret: known.secret || p.secret === true });
    }
  }
  return Object.fromEntries([...params].map(([name, { uses, secret }]) => [name, Type.Optional(Type.String({ description: uses.join("; "), ...(secret ? { writeOnly: true } : {}) }))]));
};

const AdEventName = Type.Union([Type.String(), Type.Null()], { description: "the event name (yandex-metrica: the goal's Target) sent for this status; empty or null: none" });

const DestinationSchema = mapping({
  preset: Type.String({ description: "a tracker or ad-platform preset (GET /api/presets lists them)", examples: [...PRESETS, ...AD_PLATFORMS].map((p) => p.name) }),
  verdict: withDefault(oneOf(VERDICT_MODES, {
    description: "how its answers are judged: the preset's reading, the HTTP status alone, or not at all (ad platforms: preset only)",
  }), "preset"),
  events: Type.Optional(mapping({
    wait: Type.Optional(AdEventName), hold: Type.Optional(AdEventName), approve: Type.Optional(AdEventName),
    cancel: Type.Optional(AdEventName), trash: Type.Optional(AdEventName),
  }, { description: "ad platforms: the event name per status, replacing the preset's defaults (GET /api/presets shows them)" })),
  validate_only: Type.Optional(Type.Boolean({ description: "ga4: send to the validation endpoint /debug/mp/collect, which checks the events and records nothing" })),
  ...presetParams(),
});

const TemplateRequestSchema = mapping({
  url: Type.String({ description: "the URL, with macros such as {click} and {status}" }),
  method: Type.Optional(oneOf(["GET", "POST"], { description: "default: POST with a body, else GET" })),
  json: Type.Optional(Type.Unknown({ description: "a JSON body (POST); macros inside strings are filled in" })),
  form: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
    description: "a form body (POST); values percent-encoded",
  })),
  verdict: withDefault(oneOf(VERDICT_MODES, { description: "how its answers are judged, as for destinations" }), "preset"),
}, { title: "postback request" });

const DestinationRefSchema = mapping({ destination: Type.String({ description: "a name under destinations" }) }, { title: "postback destination" });

const TEMPLATE = [
  Type.String({ description: "a URL (GET); empty = no postback" }), TemplateRequestSchema, DestinationRefSchema, Type.Null(),
] as const;
const EventTemplateSchema = Type.Union(
  [...TEMPLATE, Type.Array(Type.Union([...TEMPLATE]), { description: "several templates = several requests" })],
  { title: "postback template", description: "a URL, a request, {destination: NAME}, a list of them, or empty for none" },
);

const eventTemplates = (options: SchemaOptions) => mapping({
  wait: Type.Optional(EventTemplateSchema),
  hold: Type.Optional(EventTemplateSchema),
  approve: Type.Optional(EventTemplateSchema),
  cancel: Type.Optional(EventTemplateSchema),
  trash: Type.Optional(EventTemplateSchema),
  destination: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], {
    description: "destinations whose preset URLs serve every status not listed here",
  })),
}, options);

const PayoutSchema = mapping({
  payout: withDefault(Type.String({ description: "the {payout} macro" }), ""),
  currency: withDefault(Type.String({ description: "the {currency} macro" }), ""),
}, { title: "payout" });

const welcomeFields = {
  text: Type.String({ description: "Telegram legacy Markdown with the macros, {invite} included (4096 characters; 1024 with media)" }),
  photo: Type.Optional(Type.String({ description: "a local photo sent with the text as its caption (relative to the config file's folder)" })),
  video: Type.Optional(Type.String({ description: "a local video sent with the text as its caption (relative to the config file's folder)" })),
  button: Type.Optional(mapping({
    text: Type.String(),
    url: Type.String({ description: "http(s) URL with the macros; {invite} is the campaign's invite link" }),
  }, { description: "an inline URL button under the message" })),
};

const WelcomeSchema = mapping(welcomeFields, { description: "a message the bot sends on /start (needs the campaign's bot)" });

const WelcomeVariantSchema = mapping({
  name: Type.Optional(Type.String({
    pattern: "^[A-Za-z0-9_.-]{1,32}$", errorMessage: "must be 1-32 characters of A-Z a-z 0-9 _ . -",
    description: "how the variant is recorded on the lead and named in the stats; default v1, v2, … by position",
  })),
  languages: words({ description: "language codes this variant is for (ru, en, pt-BR; ru also takes ru-RU); empty: any language" }),
  weight: withDefault(Type.Number({ minimum: 0.001, maximum: 1_000_000, description: "relative share among the variants that fit the subscriber's language (0.001 … 1000000)" }), 1),
  ...welcomeFields,
}, { title: "welcome variant" });

const ClickLinkSchema = mapping({
  mode: withDefault(oneOf(["redirect", "page", "off"], {
    description: "redirect: 302 to the bot's deep link; page: a page with \"Open in Telegram\" (tg:// and t.me links), for in-app browsers that block the redirect; off: no click link",
  }), "redirect"),
  click_param: nullable(Type.String({ pattern: CLICK_PARAM, errorMessage: "must be a query parameter name of 1-64 characters A-Z a-z 0-9 _ . ~ -" }), {
    description: "the query parameter that carries a tracker's click id (e.g. subid): it becomes the lead's {click}; without it the click's token is",
  }),
}, { default: {}, description: "the click link GET /c/<code> (needs the campaign's bot): records the click, then sends the visitor to the bot" });

const CampaignSchema = mapping({
  code: Type.String({
    pattern: CAMPAIGN_CODE, errorMessage: "must be 1-63 characters of A-Z a-z 0-9 _ (no \"-\": the deep link splits at the first \"-\")",
    description: "unique; the deep link is https://t.me/<bot>?start=<code>-<click>",
  }),
  name: Type.Optional(Type.String({ description: "default: the code" })),
  bot: nullable(Type.String(), { description: "a name under bots" }),
  chat: nullable(Type.Integer({ errorMessage: "must be a Telegram chat id such as -1001234567890" }), { description: "the channel or group, e.g. -1001234567890" }),
  paused: withDefault(Type.Boolean(), false),
  unsub_window: withDefault(duration({ description: "a leave or ban within this time of the join cancels the lead; 0 = never closes" }), 0),
  postbacks: nullable(eventTemplates({}), { description: "this campaign's own five templates (all or nothing); null: the global ones" }),
  payouts: withDefault(mapping({
    wait: Type.Optional(PayoutSchema), hold: Type.Optional(PayoutSchema), approve: Type.Optional(PayoutSchema),
    cancel: Type.Optional(PayoutSchema), trash: Type.Optional(PayoutSchema),
  }, { description: "{payout} and {currency} per status" }), {}),
  welcome: nullable(Type.Union([WelcomeSchema, Type.Array(WelcomeVariantSchema, { minItems: 1, errorMessage: "needs at least one variant" })]), {
    description: "the message sent on /start, or a list of variants: chosen by the subscriber's language, then by weight, the same one on every Start",
  }),
  costs: withDefault(Type.Array(mapping({
    date: Type.String({ pattern: "^\\d{4}-\\d{2}-\\d{2}$", errorMessage: "must be a date YYYY-MM-DD", description: "a day in dashboard.timezone" }),
    amount: Type.Union([Type.String(), Type.Number()], { description: "what the campaign cost that day, e.g. \"125.40\" (up to 6 decimals)" }),
    currency: Type.String({ description: "ISO 4217 code, e.g. USD" }),
  }, { title: "cost" }), {
    description: "what the campaign cost per day (GET /api/money); a cost entered through PUT /api/costs/{campaign}/{date} or the dashboard's CSV upload replaces the day's",
  }), []),
  approve_after: withDefault(duration({
    description: "the approve postback leaves only once the subscriber has stayed this long (e.g. 24h); a leave before then skips it; 0 = at once",
  }), 0),
  approve_after_leave: withDefault(oneOf(["skip", "cancel"], {
    description: "a leave before approve_after: skip (no postback for the leave either) or cancel (the leave's postback is sent)",
  }), "skip"),
  min_quality: nullable(int(0, 100, { description: "below this quality score (0-100) a join is not reported as an approve (below_min_quality)" })),
  below_min_quality: withDefault(oneOf(["trash", "skip"], { description: "what a join below min_quality reports: a trash postback, or nothing (skipped rows)" }), "trash"),
  join_requests: nullable(mapping({
    approve_after: Type.Optional(duration({ description: "approve each request this long after it came (0 = at once)" })),
    decline_below: Type.Optional(int(0, 100, { description: "decline requests of subscribers whose quality score is below this" })),
    manual: Type.Optional(Type.Boolean({ description: "hold requests for a person: Approve and Decline on the lead page and POST /api/leads/{id}/join-request" })),
  }), { description: "how the bot answers join requests to the chat (through the paced Telegram channel); null: left to the chat's admins" }),
  auto_approve: withDefault(Type.Boolean({ description: "approve join requests at once: the same as join_requests: { approve_after: 0 }" }), false),
  join_request: withDefault(Type.Boolean({ description: "the campaign's invite link asks to join instead of letting people in at once" }), false),
  click_link: ClickLinkSchema,
});

export const ConfigFileSchema = mapping({
  server: ServerSchema,
  storage: StorageSchema,
  rate_limits: RateLimitsSchema,
  log: LogSchema,
  dashboard: DashboardSchema,
  account_id: withDefault(Type.String({ description: "the {user} macro" }), "1"),
  // Its default fails minItems: left out, it is refused with the reason rather than "is required".
  api_keys: withDefault(Type.Array(secretKey(), {
    minItems: 1, errorMessage: "at least one API key is required to protect /api",
    description: `keys for everything under /api (Authorization: Bearer KEY) and for the dashboard's sign-in, ${MIN_KEY_LENGTH} characters at least`,
  }), []),
  inbound_keys: withDefault(Type.Array(secretKey(), { description: `keys for inbound postbacks (/api/postback), ${MIN_KEY_LENGTH} characters at least` }), []),
  demo_tracker: withDefault(Type.Boolean({ description: "enables /demo/postback and /demo/received (the example config only)" }), false),
  delivery: DeliverySchema,
  bots: withDefault(Type.Record(Type.String(), BotSchema, {
    description: "Telegram bots by name",
    propertyNames: { pattern: "^[A-Za-z0-9_-]{1,64}$", errorMessage: "a bot name is 1-64 characters of A-Z a-z 0-9 _ - (it is part of the webhook URL)" },
  }), {}),
  destinations: withDefault(Type.Record(Type.String(), DestinationSchema, { description: "tracker and ad-platform presets by name, with their params" }), {}),
  postbacks: eventTemplates({ default: {}, description: "the global templates: a URL, a request, {destination: NAME} or a list of them per status" }),
  campaigns: withDefault(Type.Array(CampaignSchema), []),
  alerts: nullable(AlertsSchema),
}, { title: "tgcpa config", default: {} });

/** The file as read: every key with a default is there; the rest is optional. */
export type ConfigFile = Static<typeof ConfigFileSchema>;
