import { parseAddress, rangeMatcher } from "../lib/addresses.ts";

/** What Elysia hands a handler as `server` (null when the app is called without one, as tests do). */
export type PeerSource = { requestIP(request: Request): { address: string } | null } | null | undefined;

/** The client address of a request, as the rate limits and the inbound postback log see it. */
export type ClientAddress = (request: Request, server: PeerSource) => string | null;

/**
 * The one rule for "the client address of this request": the TCP peer, unless the peer is one of
 * `trustedProxies` — then X-Forwarded-For is read from the right, past every trusted proxy, and the
 * first address that is not one is the client. A header sent by anyone else is ignored, so a
 * client cannot choose its own rate-limit bucket.
 */
export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddress {
  const trusted = rangeMatcher(trustedProxies);
  const isTrusted = (address: string) => {
    const ip = parseAddress(address);
    return ip !== null && trusted(ip);
  };
  return (request, server) => {
    const peer = server?.requestIP(request)?.address;
    if (!peer) return null;
    return clientFromForwarded(peer, request.headers.get("x-forwarded-for"), isTrusted);
  };
}

/** Whether a request came over https, as the session cookie's Secure flag needs to know. */
export type CameOverHttps = (request: Request, server: PeerSource) => boolean;

/**
 * https directly (the URL's scheme), or through a trusted proxy that says so in X-Forwarded-Proto
 * (any hop: a client that adds "https" itself only makes its own cookie stricter). The header
 * from anyone else is ignored, as X-Forwarded-For is.
 */
export function httpsResolver(trustedProxies: readonly string[]): CameOverHttps {
  const trusted = rangeMatcher(trustedProxies);
  return (request, server) => {
    if (request.url.startsWith("https:")) return true;
    const proto = request.headers.get("x-forwarded-proto");
    if (!proto) return false;
    const peer = parseAddress(canonical(server?.requestIP(request)?.address ?? "") ?? "");
    return peer !== null && trusted(peer) && proto.split(",").some((p) => p.trim().toLowerCase() === "https");
  };
}

/**
 * Pure rule: start at the peer and move left through X-Forwarded-For while the current address is a
 * trusted proxy. An entry that is not an address (a forged or garbled header) stops the walk at the
 * last address a trusted proxy vouched for.
 */
export function clientFromForwarded(peer: string, forwardedFor: string | null, isTrusted: (address: string) => boolean): string {
  let client = canonical(peer) ?? peer;
  const hops = forwardedFor ? forwardedFor.split(",") : [];
  for (let i = hops.length - 1; i >= 0 && isTrusted(client); i--) {
    const hop = canonical(hops[i]!.trim());
    if (hop === null) break;
    client = hop;
  }
  return client;
}

/** One spelling per address (so ::ffff:1.2.3.4 and 1.2.3.4 share a bucket); a port or brackets some proxies add are dropped. */
function canonical(text: string): string | null {
  const bare = text.replace(/^\[([^\]]+)\](?::\d+)?$/, "$1").replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, "$1");
  return parseAddress(bare)?.toString() ?? null;
}
