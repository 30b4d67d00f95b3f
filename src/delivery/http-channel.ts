import { scrubReport, signAdRequest } from "../adplatforms/secrets.ts";
import { signAlertWebhook } from "../alerts/webhook-secret.ts";
import type { DeliveryConfig, DestinationConfig } from "../config/model.ts";
import type { Clock } from "../lib/clock.ts";
import { verdictByName } from "../presets/presets.ts";
import { AddressGuard } from "./address-guard.ts";
import type { ChannelAttempt } from "./channel.ts";
import { sendPostback, type OutgoingRequest } from "./http-request.ts";
import { classifyAttempt } from "../domain/verdict.ts";

/** A tracker postback as the HTTP channel sends it: the request and how its answer is judged. */
export type HttpPostback = OutgoingRequest & { verdict: string | null };

/** Sends a tracker postback; `abort` is the caller's controller (the dispatcher aborts at shutdown). */
export type HttpChannel = (postback: HttpPostback, abort?: AbortController) => Promise<ChannelAttempt>;

/**
 * The channel of tracker postbacks (`http`): sends the request — redirects followed and every hop
 * checked by the address guard, within delivery.timeout_ms — and judges the answer with the
 * row's verdict (its preset's, or by status). The dispatcher sends claimed rows through it; the
 * campaign test endpoint sends its sample requests through the same one, so both agree. An ad
 * platform's row gets its destination's secret here, from the running config, and the report
 * comes back with the secret replaced (adplatforms/secrets.ts).
 */
export function createHttpChannel(deps: {
  delivery: () => DeliveryConfig;
  clock: Clock;
  /** The running config's destinations: an ad row's secret is read from them at send time. */
  destinations: () => Readonly<Record<string, DestinationConfig>>;
  /** The running config's alerts.webhook.url: an alert row's URL is filled in from it at send time. */
  alertWebhookUrl: () => string | null;
}): HttpChannel {
  // The guard is rebuilt when a reload brings a new allow-list.
  let guard: AddressGuard | null = null;
  let guardFor: readonly string[] | null = null;
  return async (postback, abort) => {
    const d = deps.delivery();
    if (guardFor !== d.allow_hosts) {
      guard = new AddressGuard(d.allow_hosts);
      guardFor = d.allow_hosts;
    }
    const signed = signAdRequest(postback, deps.destinations()) ?? signAlertWebhook(postback, deps.alertWebhookUrl());
    if (signed && "refused" in signed) {
      const result = { kind: "error", error: "no_destination", message: signed.refused } as const;
      return { report: { result, url: postback.url, responseHead: null }, verdict: classifyAttempt(result) };
    }
    const sent = await sendPostback(signed?.request ?? postback, { timeoutMs: d.timeout_ms, maxRedirects: d.max_redirects, guard: guard!, abort, now: deps.clock.now });
    const report = signed ? scrubReport(sent, signed.secrets) : sent;
    return { report, verdict: classifyAttempt(report.result, verdictByName(postback.verdict)) };
  };
}
