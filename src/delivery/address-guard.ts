import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

export type GuardResult =
  /**
   * `addresses`: the checked addresses of the URL's name, in the resolver's order: the request
   * must connect to one of them (never resolve the name again, or a second answer could point
   * elsewhere). null: the URL may be fetched as it is (an IP literal, an allow-listed name).
   */
  | { ok: true; addresses: readonly string[] | null }
  | { ok: false; error: "blocked_address" | "dns_not_found" | "dns_temporary"; message: string };

const AS_IS: GuardResult = { ok: true, addresses: null };
const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/^\[|\]$/g, "");

export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * An address as the network treats it: IPv4-mapped IPv6 (::ffff:a.b.c.d) and IPv4-compatible
 * IPv6 (::a.b.c.d, ::/96, deprecated but still routed by some stacks) are their IPv4 address. `::`
 * and `::1` (whose IPv4 part would start with 0) stay IPv6.
 */
function asNetworkAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const ip = ipaddr.parse(address);
  if (ip.kind() !== "ipv6") return ip;
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const p = v6.parts;
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0 && p[6]! >> 8 !== 0) {
    return new ipaddr.IPv4([p[6]! >> 8, p[6]! & 0xff, p[7]! >> 8, p[7]! & 0xff]);
  }
  return v6;
}

/** Whether an address is public unicast, judging IPv4-mapped and IPv4-compatible IPv6 by its IPv4 address. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return asNetworkAddress(address).range() === "unicast";
}

/**
 * SSRF guard (SPEC §4): only public addresses unless a hostname or CIDR is allow-listed.
 * Every address a name resolves to must pass, so a name pointing inside is refused; the request
 * then connects to a checked address (see sender.ts), so a name that answers differently the
 * next time (DNS rebinding) cannot lead it elsewhere.
 */
export class AddressGuard {
  private readonly names = new Set<string>();
  private readonly cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];

  constructor(allowHosts: readonly string[], private readonly resolve: Lookup = systemLookup) {
    for (const entry of allowHosts) {
      if (entry.includes("/")) this.cidrs.push(ipaddr.parseCIDR(entry));
      else this.names.add(entry.toLowerCase().replace(/^\[|\]$/g, ""));
    }
  }

  private allowedAddress(address: string): boolean {
    if (this.names.has(address)) return true;
    if (!ipaddr.isValid(address)) return false;
    const ip = asNetworkAddress(address);
    return this.cidrs.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
  }

  /** The verdict when no DNS lookup is needed (an allow-listed name, an IP literal); null otherwise. */
  checkWithoutLookup(url: URL): GuardResult | null {
    const host = hostOf(url);
    if (this.names.has(host)) return AS_IS;
    return ipaddr.isValid(host) ? this.judge(host, [host], AS_IS) : null;
  }

  /** Resolves the URL's name once and checks every address; the request must then go to one of them. */
  async check(url: URL): Promise<GuardResult> {
    const known = this.checkWithoutLookup(url);
    if (known) return known;
    const host = hostOf(url);
    let addresses: string[];
    try {
      addresses = await this.resolve(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === "ENOTFOUND" || code === "ENODATA"
        ? { ok: false, error: "dns_not_found", message: `unknown host ${host}` }
        : { ok: false, error: "dns_temporary", message: `cannot resolve ${host}: ${code ?? (err as Error).message}` };
    }
    if (addresses.length === 0) return { ok: false, error: "dns_not_found", message: `unknown host ${host}` };
    return this.judge(host, addresses, { ok: true, addresses });
  }

  private judge(host: string, addresses: readonly string[], ok: GuardResult): GuardResult {
    const bad = addresses.find((a) => !isPublicAddress(a) && !this.allowedAddress(a));
    if (bad !== undefined) {
      return { ok: false, error: "blocked_address", message: `${host} resolves to ${bad}, which is not public (add it to delivery.allow_hosts to allow)` };
    }
    return ok;
  }
}
