import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { parseAddress, rangeMatcher, type Address } from "../lib/addresses.ts";

export type GuardResult =
  | { ok: true }
  | { ok: false; error: "blocked_address" | "dns_not_found" | "dns_temporary"; message: string };

const OK: GuardResult = { ok: true };
const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/^\[|\]$/g, "");

export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Whether an address is public unicast, judging IPv4-mapped IPv6 by its IPv4 address. */
export function isPublicAddress(address: string): boolean {
  return parseAddress(address)?.range() === "unicast";
}

/**
 * SSRF guard (SPEC §4): only public addresses unless a hostname or CIDR is allow-listed.
 * Every address a name resolves to must pass, so a name pointing inside is refused.
 */
export class AddressGuard {
  private readonly names = new Set<string>();
  private readonly inAllowedRange: (ip: Address) => boolean;

  constructor(allowHosts: readonly string[], private readonly resolve: Lookup = systemLookup) {
    for (const entry of allowHosts) if (!entry.includes("/")) this.names.add(entry.toLowerCase().replace(/^\[|\]$/g, ""));
    this.inAllowedRange = rangeMatcher(allowHosts.filter((entry) => entry.includes("/")));
  }

  private allowedAddress(address: string): boolean {
    if (this.names.has(address)) return true;
    const ip = parseAddress(address);
    return ip !== null && this.inAllowedRange(ip);
  }

  /** The verdict when no DNS lookup is needed (an allow-listed name, an IP literal); null otherwise. */
  checkWithoutLookup(url: URL): GuardResult | null {
    const host = hostOf(url);
    if (this.names.has(host)) return OK;
    return ipaddr.isValid(host) ? this.judge(host, [host]) : null;
  }

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
    return this.judge(host, addresses);
  }

  private judge(host: string, addresses: string[]): GuardResult {
    const bad = addresses.find((a) => !isPublicAddress(a) && !this.allowedAddress(a));
    if (bad !== undefined) {
      return { ok: false, error: "blocked_address", message: `${host} resolves to ${bad}, which is not public (add it to delivery.allow_hosts to allow)` };
    }
    return OK;
  }
}
