// What each alert's cause looks like now: the bots (from the running bots), the campaigns' chats
// (the rights Telegram last reported), the hosts (the dispatcher's, in memory), the campaigns'
// Starts (their last wait event) and the storage (its last write, or a probe).
import type { AlertKind, AlertsConfig, DeliveryConfig } from "../config/model.ts";
import type { Runtime } from "../config/runtime.ts";
import type { HostStates } from "../delivery/host-health.ts";
import type { Observation } from "../domain/alerts.ts";
import { spokenDuration } from "../lib/duration.ts";
import { stripUrls } from "../lib/logger.ts";
import { localDateTime } from "../lib/time-zones.ts";
import type { Reads, StorageState } from "../storage/port.ts";
import { missingRights } from "../telegram/rights.ts";

/** One alert's cause at one look. */
export interface Observed {
  key: string;
  kind: AlertKind;
  subject: string;
  obs: Observation;
  /** While bad: what is wrong, in words (the alert's text). */
  detail: string;
}

export interface ObserveDeps {
  read: Pick<Reads, "telegram" | "leads">;
  runtime: Runtime;
  bots: () => readonly { name: string; status: string; last_error: string | null; down_since: string | null }[];
  hosts: HostStates;
  storageState: () => Promise<StorageState>;
}

export const alertKey = (kind: AlertKind, subject: string) => `${kind}:${subject}`;

const observed = (kind: AlertKind, subject: string, obs: Observation, detail = ""): Observed => ({ key: alertKey(kind, subject), kind, subject, obs, detail });

/** Every cause the configured alerts look at (the alerts set off are not looked at). */
export async function observeAll(deps: ObserveDeps, cfg: AlertsConfig, now: number): Promise<Observed[]> {
  const at = (ms: number) => `${localDateTime(cfg.timezone, ms)} (${cfg.timezone})`;
  const on = (kind: AlertKind) => cfg.after_ms[kind] !== null;
  const out: Observed[] = [];
  const bots = new Map(deps.bots().map((b) => [b.name, b]));

  if (on("bot_down")) {
    for (const name of Object.keys(deps.runtime.config.bots)) {
      const b = bots.get(name);
      if (b?.status === "error") {
        const since = b.down_since ? Date.parse(b.down_since) : now;
        out.push(observed("bot_down", name, { bad: true, since }, `bot ${name} is down since ${at(since)} (${spokenDuration(now - since)}): ${b.last_error ?? "no answer"}`));
      } else out.push(observed("bot_down", name, b?.status === "running" ? { bad: false } : null)); // starting: no news yet
    }
  }
  if (on("bot_rights")) {
    const chats = new Map<string, { bot: string; chat: number; campaigns: string[] }>();
    for (const c of deps.runtime.config.campaigns) {
      if (c.bot === null || c.chat === null) continue;
      const k = `${c.bot}:${c.chat}`;
      const entry = chats.get(k) ?? { bot: c.bot, chat: c.chat, campaigns: [] };
      entry.campaigns.push(c.code);
      chats.set(k, entry);
    }
    for (const [subject, { bot, chat, campaigns }] of chats) {
      // What Telegram last said of the chat is news only while the bot is connected.
      if (bots.get(bot)?.status !== "running") {
        out.push(observed("bot_rights", subject, null));
        continue;
      }
      const row = await deps.read.telegram.chat(bot, chat);
      const missing = row ? missingRights(row.status, row.rights) : ["administrator"];
      out.push(missing.length === 0 ? observed("bot_rights", subject, { bad: false }) : observed("bot_rights", subject, row ? { bad: true, since: row.updatedAt } : { bad: true },
        `bot ${bot} lacks ${missing.join(", ")} in chat ${chat} (campaign ${campaigns.join(", ")}): ${row ? `Telegram said so at ${at(row.updatedAt)}` : "Telegram never reported the bot there"}; invite links and join requests need an admin with can_invite_users`));
    }
  }
  if (on("host_failing")) out.push(...observeHosts(deps.hosts.states(now), deps.runtime.config.delivery, now, at));
  if (on("no_starts")) {
    const after = cfg.after_ms.no_starts!;
    for (const c of deps.runtime.campaigns.values()) {
      if (c.config.paused) {
        out.push(observed("no_starts", c.config.code, { bad: false })); // paused: no Starts expected
        continue;
      }
      const last = await deps.read.leads.lastEventAt(c.id, "wait");
      if (last === null || now - last < after) out.push(observed("no_starts", c.config.code, { bad: false })); // no traffic yet, or some lately
      else out.push(observed("no_starts", c.config.code, { bad: true, since: last }, `campaign ${c.config.code} has had no Start for ${spokenDuration(now - last)} (the last one at ${at(last)})`));
    }
  }
  if (on("storage_unwritable")) {
    const s = await deps.storageState();
    out.push(s.writable ? observed("storage_unwritable", "storage", { bad: false })
      : observed("storage_unwritable", "storage", { bad: true, since: s.since }, `the database refuses writes since ${at(s.since)}: ${s.error}. Nothing new is recorded (the API answers 503) until it takes writes again`));
  }
  return out;
}

/**
 * A host is failing while its circuit is open, or once its last delivery.circuit_failures
 * attempts or more failed with none delivered since (a tracker refusing everything, too, which
 * never opens the circuit). Hosts not attempted since the start are not known: no news.
 */
function observeHosts(states: ReturnType<HostStates["states"]>, d: DeliveryConfig, now: number, at: (ms: number) => string): Observed[] {
  return states.map((h) => {
    const failing = h.circuit === "open" || (h.failingSince !== null && h.failedAttempts >= d.circuit_failures);
    if (!failing) return observed("host_failing", h.host, h.failingSince === null ? { bad: false } : null);
    const since = h.failingSince ?? now;
    const circuit = h.circuit === "open" && h.openUntil !== null ? `; paused until ${at(h.openUntil)} (circuit open)` : "";
    const last = h.lastFailure ? `; last: ${stripUrls(h.lastFailure.reason)}` : "";
    return observed("host_failing", h.host, { bad: true, since },
      `postbacks to ${h.host} are failing since ${at(since)}: ${h.failedAttempts} attempts failed, none delivered${circuit}${last}`);
  });
}
