/**
 * Telegram's own Bot API delivers webhooks only over HTTPS and only to ports 443, 80, 88 or 8443
 * (setWebhook; shared/reference/telegram.md). A bot in webhook mode that talks to api.telegram.org
 * with any other server.public_url would start, be refused by setWebhook and never receive an
 * update, so check-config says so first. A local Bot API server (`api_root`) takes plain HTTP and
 * any port, so the rule is not applied to a bot that has one.
 */
export const WEBHOOK_PORTS = [443, 80, 88, 8443] as const;

/** Why `publicUrl` cannot be Telegram's webhook base; null when it can. */
export function webhookUrlProblem(publicUrl: string | null): string | null {
  if (publicUrl === null) return "webhook mode needs server.public_url (the HTTPS address Telegram posts updates to), or use mode: polling";
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:") return `Telegram sends webhooks over HTTPS only: ${url.protocol.slice(0, -1)} is refused by setWebhook (put HTTPS in front: deploy/Caddyfile, deploy/nginx.conf)`;
  const port = url.port === "" ? 443 : Number(url.port);
  if (!(WEBHOOK_PORTS as readonly number[]).includes(port)) return `Telegram sends webhooks only to ports ${WEBHOOK_PORTS.join(", ")}, not ${port}`;
  return null;
}
