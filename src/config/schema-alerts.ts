// The `alerts:` part of the config schema (schema.ts).
import { Type } from "@sinclair/typebox";
import { DURATION_PATTERN, duration, mapping, nullable, oneOf, withDefault } from "./schema-builders.ts";

/** A threshold of an alert: how long its cause must last before it fires, or `off`. */
const threshold = (value: string, description: string) => withDefault(Type.Union(
  [Type.Number({ minimum: 0 }), Type.String({ pattern: `${DURATION_PATTERN}|^\\s*off\\s*$` })],
  { errorMessage: "must be a duration such as 5m, 2h (a plain number is seconds), or off", description: `${description}; off: this alert never fires` },
), value);

export const AlertsSchema = mapping({
  telegram: nullable(mapping({
    bot: Type.String({ description: "a name under bots: it sends the alerts (paced with its other sends)" }),
    chat: Type.Integer({ errorMessage: "must be a Telegram chat id (a user's id, or -100… for a group or channel)", description: "the chat the alerts go to; the bot must be able to write there (a user who started it, or a group or channel where it is a member or admin)" }),
  }, { description: "alerts as Telegram messages" })),
  webhook: nullable(mapping({
    url: Type.String({ pattern: "^https?://", errorMessage: "must be an http(s) URL", writeOnly: true, description: "the webhook URL (a Slack incoming webhook, a Discord webhook, or your own); kept secret: shown as https://host/***" }),
    format: withDefault(oneOf(["json", "slack", "discord"], {
      description: "the JSON body: slack {text}; discord {content}; json {text, alert: {kind, subject, state, since, …}}",
    }), "json"),
  }, { description: "alerts POSTed as JSON, through the outbox (retry ladder, address guard, circuit breaker)" })),
  bot_down: threshold("5m", "a bot down (cannot reach Telegram, or refused) this long"),
  bot_rights: threshold("15m", "a campaign's bot not admin in its chat with the rights it needs this long (while the bot is connected)"),
  host_failing: threshold("10m", "a host's postbacks failing this long: its circuit open, or its last delivery.circuit_failures attempts or more failed, none delivered since"),
  no_starts: threshold("6h", "a campaign that had Starts has had none this long"),
  storage_unwritable: threshold("1m", "the database refusing writes this long (sent straight from memory, recorded once writes work again)"),
  digest: nullable(Type.String({ pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$", errorMessage: "must be a local time HH:MM, such as 09:00" }), {
    description: "a daily digest per campaign (the day before: Starts, join requests, joins, leaves, bans) at this local time in alerts.timezone; null: none",
  }),
  timezone: nullable(Type.String(), { description: "IANA time zone of the digest and of the times in alerts; default dashboard.timezone" }),
  spacing: withDefault(duration({ description: "two messages of one alert (its firing and recovery, or a recovery and the next firing) are at least this far apart: a flapping cause does not flood" }), "15m"),
  recover_after: withDefault(duration({ description: "how long a cause must be fine again before its recovery is sent" }), "2m"),
  check_every: withDefault(duration({ description: "how often the causes are looked at (10s … 1h)" }), "1m"),
}, { description: "where alerts go (telegram and/or webhook) and which fire, each with its threshold; off when left out" });
