// Which outbox rows may share one request to an ad platform, and the request they make (the
// dispatcher's Batching, delivery/batching.ts). A row's stored body carries its one event, built
// alone; rows of one destination, one URL and one platform batch key are merged into one body.
import type { DestinationConfig } from "../config/model.ts";
import type { Batching } from "../delivery/batching.ts";
import { adPlatformByName, adTarget } from "./index.ts";

/**
 * Events one request carries at most, whatever the platform allows (Meta and TikTok take 1,000):
 * a request of 100 events is about 40 KB, sent well within delivery.timeout_ms, and a refusal that
 * must be split costs at most 100 single sends.
 */
export const MAX_BATCH_ROWS = 100;

const hostOf = (url: string | undefined) => (url && URL.canParse(url) ? new URL(url).host : null);

export function adBatching(destinations: () => Readonly<Record<string, DestinationConfig>>): Batching {
  // Per config (a reload replaces the object): host → the most events a request to it may carry.
  let limitsFor: Readonly<Record<string, DestinationConfig>> | null = null;
  let limits = new Map<string, number>();
  const hostLimits = () => {
    const current = destinations();
    if (current === limitsFor) return limits;
    limitsFor = current;
    limits = new Map();
    for (const d of Object.values(current)) {
      const platform = adPlatformByName(d.preset);
      const host = platform && hostOf(d.params.base_url ?? platform.params.find((p) => p.name === "base_url")?.default);
      if (host) limits.set(host, Math.max(limits.get(host) ?? 1, Math.min(platform.maxEvents, MAX_BATCH_ROWS)));
    }
    return limits;
  };
  return {
    hostLimit: (host) => hostLimits().get(host) ?? 1,
    keyOf(row) {
      const target = row.channel === "http" && row.body !== null ? adTarget(row.verdict) : null;
      const key = target && target.platform.bodyBatchKey(row.body!, row.contentType);
      if (!target || key === null || key === undefined) return null;
      return { key: `${row.verdict}\n${row.method} ${row.url}\n${row.contentType}\n${key}`, limit: Math.min(target.platform.maxEvents, MAX_BATCH_ROWS) };
    },
    merge(rows) {
      const platform = adTarget(rows[0]!.verdict)!.platform;
      return platform.mergeBodies(rows.map((r) => r.body ?? ""), rows[0]!.contentType);
    },
    refusalMayBeOneEvent(row, result) {
      const target = adTarget(row.verdict);
      // No answer (a malformed URL, a blocked address): nothing to do with any one event.
      return target !== null && result.kind === "response" && target.platform.refusalMayBeOneEvent(result);
    },
  };
}
