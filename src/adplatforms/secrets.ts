// Secrets are resolved at send time, never stored (SPEC §9): a row keeps its URL with the secret as
// *** and no secret header; the HTTP channel fills them in from the running config's destination
// (so a token rotated by a reload is used for rows already queued), and everything the attempt
// brings back (the URL, the answer's head, an error message) has the secret replaced again before
// it is logged, stored or shown.
import type { DestinationConfig } from "../config/model.ts";
import type { OutgoingRequest, SendReport } from "../delivery/http-request.ts";
import { adTarget, secretParam } from "./index.ts";

export const SECRET_MASK = "***";

export type SignedRequest = { request: OutgoingRequest; secrets: string[] } | { refused: string };

/**
 * The request with its destination's secret, for a row whose verdict names an ad destination;
 * null for any other row (sent as stored). Refused when the destination is gone or changed platform.
 */
export function signAdRequest(req: OutgoingRequest & { verdict: string | null }, destinations: Readonly<Record<string, DestinationConfig>>): SignedRequest | null {
  const target = adTarget(req.verdict);
  if (!target) return null;
  const { platform, destination } = target;
  const d = Object.hasOwn(destinations, destination) ? destinations[destination] : undefined;
  if (!d) return { refused: `destination ${JSON.stringify(destination)} is no longer configured: its ${secretParam(platform)} cannot be filled in` };
  if (d.preset !== platform.name) return { refused: `destination ${JSON.stringify(destination)} is now ${d.preset}; this row was built for ${platform.name}` };
  const secret = d.params[secretParam(platform)] ?? "";
  if (!URL.canParse(req.url)) return { request: req, secrets: [] }; // the sender reports the malformed URL
  const url = new URL(req.url);
  const headers = platform.sign(url, secret);
  return { request: { ...req, url: url.href, headers: { ...req.headers, ...headers } }, secrets: [secret] };
}

/** Every form a secret may take in a text: as written, percent-encoded, form-encoded. */
function forms(secret: string): string[] {
  if (secret === "") return [];
  return [...new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)])].sort((a, b) => b.length - a.length);
}

/** The text with every secret replaced by ***. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) for (const form of forms(secret)) out = out.split(form).join(SECRET_MASK);
  return out;
}

/** A send report safe to log, store and show. */
export function scrubReport(report: SendReport, secrets: readonly string[]): SendReport {
  if (secrets.length === 0) return report;
  const result = report.result.kind === "error"
    ? { ...report.result, message: scrubSecrets(report.result.message, secrets) }
    : { ...report.result, body: scrubSecrets(report.result.body, secrets) };
  return {
    result,
    url: scrubSecrets(report.url, secrets),
    responseHead: report.responseHead === null ? null : scrubSecrets(report.responseHead, secrets),
  };
}
