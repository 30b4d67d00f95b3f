// The alerts' webhook URL is a secret (a Slack or Discord webhook URL lets anyone post to the
// channel): an outbox row keeps it as https://host/***, and the HTTP channel fills in the real one
// from the running config when it sends, as for an ad platform's token (adplatforms/secrets.ts).
import { SECRET_MASK, type SignedRequest } from "../adplatforms/secrets.ts";
import type { OutgoingRequest } from "../delivery/http-request.ts";

/** The verdict name an alert's webhook row stores: the HTTP channel fills in its URL; its answers are judged by status. */
export const ALERT_WEBHOOK_VERDICT = "alert-webhook";

/** The URL as rows, logs and the API show it: its origin and *** for the rest. */
export const maskedWebhookUrl = (url: string) => `${new URL(url).origin}/${SECRET_MASK}`;

/**
 * What of the URL must never be shown: its path and query after the first `/` (a report's URL then
 * reads https://host/***, as the row's), and without its origin in case an answer quotes it alone.
 */
function secretsOf(url: string): string[] {
  const u = new URL(url);
  const rest = `${u.pathname}${u.search}`.slice(1);
  return rest ? [rest] : [];
}

/**
 * The request with the real URL, for a row whose verdict is ALERT_WEBHOOK_VERDICT; null for any other
 * row. Refused when alerts.webhook is gone from the config or now points at another origin.
 */
export function signAlertWebhook(req: OutgoingRequest & { verdict: string | null }, webhookUrl: string | null): SignedRequest | null {
  if (req.verdict !== ALERT_WEBHOOK_VERDICT) return null;
  if (webhookUrl === null) return { refused: "alerts.webhook is no longer configured" };
  if (!URL.canParse(req.url) || new URL(req.url).origin !== new URL(webhookUrl).origin) return { refused: "alerts.webhook now points at another host; this alert was written for the old one" };
  return { request: { ...req, url: webhookUrl }, secrets: secretsOf(webhookUrl) };
}
