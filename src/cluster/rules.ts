// Pure rules of several instances on one database (table tests: test/unit/cluster-rules.test.ts).
import type { BotLeaseRow } from "../storage/port-cluster.ts";

/**
 * The lease (in bot_leases, beside the bots') whose holder runs the alerts, so that one instance
 * looks at their causes and sends each incident once. No bot name can be this (bots are YAML keys
 * of letters, digits and _).
 */
export const ALERTS_LEASE = "@alerts";

/** How long a bot lease lasts, ms: a dead owner's bots are taken within this. */
export const BOT_LEASE_MS = 5000;
/** How often an instance renews its leases and tells it is alive, ms. */
export const HEARTBEAT_MS = 1000;
/**
 * An owner stops acting on a lease this long before it expires, ms (one missed renewal): with the
 * instances' clocks within a second of each other, the next owner starts after the last one stopped.
 */
export const OWNERSHIP_MARGIN_MS = 1000;
/** An instance whose heartbeat is older than this is shown as not alive, ms. */
export const ALIVE_WITHIN_MS = 3 * HEARTBEAT_MS;
/** An instance silent this long is removed from the list, ms. */
export const FORGET_AFTER_MS = 10 * 60_000;
/** New rows wake the other instances at most this often, ms (LISTEN/NOTIFY, coalesced). */
export const WAKE_EVERY_MS = 100;

/** The bots `me` may act for at `now`: leases it holds that end later than the margin. */
export function ownedBots(leases: readonly BotLeaseRow[], me: string, now: number, marginMs = OWNERSHIP_MARGIN_MS): Set<string> {
  return new Set(leases.filter((l) => l.owner === me && now < l.expiresAt - marginMs).map((l) => l.bot));
}

/**
 * When to send the next coalesced notification: now (null: at once) when the last one went at
 * least `everyMs` ago, else the moment that interval ends (one send then covers every ask meanwhile).
 */
export function nextNotifyAt(lastSentAt: number, now: number, everyMs = WAKE_EVERY_MS): number | null {
  return now - lastSentAt >= everyMs ? null : lastSentAt + everyMs;
}

/** Whether an instance told it is alive recently enough. */
export const isAlive = (heartbeatAt: number, now: number, withinMs = ALIVE_WITHIN_MS) => now - heartbeatAt <= withinMs;

/** A notification between instances on the one channel: what happened, and which instance says so. */
export type ClusterSignal = { kind: "wake" | "reload" | "circuit"; from: string };

export const CLUSTER_CHANNEL = "tgcpa";

export const encodeSignal = (s: ClusterSignal) => `${s.kind}:${s.from}`;

export function decodeSignal(payload: string): ClusterSignal | null {
  const i = payload.indexOf(":");
  const kind = payload.slice(0, i);
  if (i <= 0 || (kind !== "wake" && kind !== "reload" && kind !== "circuit")) return null;
  return { kind, from: payload.slice(i + 1) };
}
