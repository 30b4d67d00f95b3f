import ipaddr from "ipaddr.js";

export type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Parses an IP address; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) is taken as the IPv4 address it carries. */
export function parseAddress(text: string): Address | null {
  if (!ipaddr.isValid(text)) return null;
  const ip = ipaddr.parse(text);
  return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/** Whether an address lies in one of `entries`: CIDRs, or plain addresses (each its own /32 or /128). */
export function rangeMatcher(entries: readonly string[]): (ip: Address) => boolean {
  const ranges = entries.flatMap((entry): [Address, number][] => {
    if (entry.includes("/")) return [ipaddr.parseCIDR(entry)];
    const ip = parseAddress(entry.replace(/^\[|\]$/g, ""));
    return ip ? [[ip, ip.kind() === "ipv4" ? 32 : 128]] : [];
  });
  return (ip) => ranges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
}
