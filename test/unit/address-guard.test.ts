import { describe, expect, test } from "bun:test";
import { AddressGuard, isPublicAddress, type Lookup } from "../../src/delivery/address-guard.ts";

/** A fake resolver: a fixed table, never the network. Unknown names fail like getaddrinfo does. */
const fakeDns = (table: Record<string, string[]>): Lookup => async (host) => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return found;
};
const failingDns = (code: string): Lookup => async () => {
  throw Object.assign(new Error(`getaddrinfo ${code}`), { code });
};
const noDns: Lookup = async (host) => {
  throw new Error(`unexpected DNS lookup of ${host}`);
};

const url = (host: string) => new URL(`http://${host}:8080/x`);

const BLOCKED = [
  { name: "IPv4 loopback", address: "127.0.0.1" },
  { name: "IPv4 loopback, other address", address: "127.8.9.10" },
  { name: "IPv6 loopback", address: "::1" },
  { name: "10/8 private", address: "10.1.2.3" },
  { name: "172.16/12 private", address: "172.16.0.1" },
  { name: "172.31 private (top of /12)", address: "172.31.255.254" },
  { name: "192.168/16 private", address: "192.168.1.1" },
  { name: "link-local / cloud metadata", address: "169.254.169.254" },
  { name: "CGNAT 100.64/10", address: "100.64.0.1" },
  { name: "ULA fc00::/7 (fc)", address: "fc00::1" },
  { name: "ULA fc00::/7 (fd)", address: "fd12::1" },
  { name: "IPv6 link-local", address: "fe80::1" },
  { name: "IPv4-mapped loopback", address: "::ffff:127.0.0.1" },
  { name: "IPv4-mapped private", address: "::ffff:10.0.0.1" },
  { name: "IPv4-mapped metadata", address: "::ffff:169.254.169.254" },
  { name: "IPv4-compatible loopback (::/96)", address: "::127.0.0.1" },
  { name: "IPv4-compatible private (::/96)", address: "::10.0.0.1" },
  { name: "IPv4-compatible metadata (::/96)", address: "::169.254.169.254" },
  { name: "IPv4-compatible loopback, hex spelling", address: "::7f00:1" },
  { name: "unspecified IPv4", address: "0.0.0.0" },
  { name: "unspecified IPv6", address: "::" },
  { name: "broadcast", address: "255.255.255.255" },
  { name: "multicast", address: "224.0.0.1" },
];
const PUBLIC = [
  { name: "Google DNS", address: "8.8.8.8" },
  { name: "Cloudflare IPv6", address: "2606:4700::1111" },
  { name: "just outside 172.16/12", address: "172.32.0.1" },
  { name: "just outside CGNAT", address: "100.128.0.1" },
  { name: "IPv4-mapped public", address: "::ffff:8.8.8.8" },
  { name: "IPv4-compatible public (::/96)", address: "::8.8.8.8" },
];

describe("isPublicAddress", () => {
  test.each(BLOCKED)("refuses $name ($address)", ({ address }) => {
    expect(isPublicAddress(address)).toBe(false);
  });
  test.each(PUBLIC)("allows $name ($address)", ({ address }) => {
    expect(isPublicAddress(address)).toBe(true);
  });
  test.each(["not-an-ip", "", "999.1.1.1"])("refuses a non-address %p", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe("AddressGuard with the default (empty) allow-list", () => {
  const guard = new AddressGuard([], noDns);
  const host = (address: string) => (address.includes(":") ? `[${address}]` : address);

  test.each(BLOCKED)("an IP-literal URL to $name is blocked", async ({ address }) => {
    const result = await guard.check(url(host(address)));
    expect(result).toMatchObject({ ok: false, error: "blocked_address" });
  });
  test.each(PUBLIC)("an IP-literal URL to $name passes without DNS, fetched as it is", async ({ address }) => {
    expect(await guard.check(url(host(address)))).toEqual({ ok: true, addresses: null });
  });
  test.each(["2130706433", "0x7f.1", "127.1"])("a disguised loopback literal %p is blocked", async (h) => {
    expect(await guard.check(url(h))).toMatchObject({ ok: false, error: "blocked_address" });
  });
});

describe("AddressGuard resolving hostnames", () => {
  const dns = fakeDns({
    "tracker.example": ["93.184.216.10"],
    "dual.example": ["8.8.8.8", "2606:4700::1111"],
    "inside.example": ["10.0.0.5"],
    "rebind.example": ["8.8.8.8", "192.168.1.1"],
    "rebind6.example": ["2606:4700::1111", "::1"],
    "metadata.example": ["169.254.169.254"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
  });
  const guard = new AddressGuard([], dns);

  const cases: { name: string; host: string; ok: boolean }[] = [
    { name: "a name resolving to a public address passes", host: "tracker.example", ok: true },
    { name: "a name resolving to public IPv4 and IPv6 passes", host: "dual.example", ok: true },
    { name: "a name resolving to a private address is blocked", host: "inside.example", ok: false },
    { name: "a name resolving to public + private is blocked (every address must pass)", host: "rebind.example", ok: false },
    { name: "a name resolving to public IPv6 + loopback is blocked", host: "rebind6.example", ok: false },
    { name: "a name resolving to the metadata address is blocked", host: "metadata.example", ok: false },
    { name: "a name resolving to an IPv4-mapped loopback is blocked", host: "mapped.example", ok: false },
    { name: "localhost is blocked", host: "localhost", ok: false },
  ];
  test.each(cases)("$name", async ({ host, ok }) => {
    const result = await guard.check(url(host));
    if (ok) expect(result).toEqual({ ok: true, addresses: (await dns(host)) });
    else expect(result).toMatchObject({ ok: false, error: "blocked_address" });
  });

  test("a passing name gives its checked addresses in the resolver's order, for the request to connect to", async () => {
    expect(await guard.check(url("dual.example"))).toEqual({ ok: true, addresses: ["8.8.8.8", "2606:4700::1111"] });
  });

  test("the name is resolved once per check", async () => {
    let lookups = 0;
    const counting: Lookup = async (h) => {
      lookups++;
      return dns(h);
    };
    await new AddressGuard([], counting).check(url("tracker.example"));
    expect(lookups).toBe(1);
  });

  test("a resolver answering no address at all is an unknown host", async () => {
    expect(await new AddressGuard([], async () => []).check(url("tracker.example"))).toMatchObject({ ok: false, error: "dns_not_found" });
  });

  test("the refusal names the host and the offending address", async () => {
    const result = await guard.check(url("rebind.example"));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message).toContain("rebind.example");
      expect(result.message).toContain("192.168.1.1");
    }
  });

  const dnsErrors: { code: string; error: "dns_not_found" | "dns_temporary" }[] = [
    { code: "ENOTFOUND", error: "dns_not_found" },
    { code: "EAI_AGAIN", error: "dns_temporary" },
    { code: "ETIMEOUT", error: "dns_temporary" },
  ];
  test.each(dnsErrors)("lookup failing with $code → $error", async ({ code, error }) => {
    const result = await new AddressGuard([], failingDns(code)).check(url("tracker.example"));
    expect(result).toMatchObject({ ok: false, error });
  });
});

describe("AddressGuard allow-list", () => {
  const dns = fakeDns({
    "tracker.lan": ["10.0.0.5"],
    "other.lan": ["10.0.0.5"],
    "sub.tracker.lan": ["10.0.0.5"],
    "office.lan": ["192.168.1.20"],
    "mixed.lan": ["10.1.2.3", "192.168.1.20"],
  });

  const cases: { name: string; allow: string[]; host: string; ok: boolean }[] = [
    { name: "exact hostname lets its private address through", allow: ["tracker.lan"], host: "tracker.lan", ok: true },
    { name: "hostname match is case-insensitive", allow: ["Tracker.LAN"], host: "TRACKER.lan", ok: true },
    { name: "another name with the same address is still blocked", allow: ["tracker.lan"], host: "other.lan", ok: false },
    { name: "a subdomain of an allowed name is still blocked", allow: ["tracker.lan"], host: "sub.tracker.lan", ok: false },
    { name: "an allowed IP literal passes", allow: ["127.0.0.1"], host: "127.0.0.1", ok: true },
    { name: "an allowed IP literal does not open its neighbour", allow: ["127.0.0.1"], host: "127.0.0.2", ok: false },
    { name: "CIDR 10.0.0.0/8 lets 10.1.2.3 through", allow: ["10.0.0.0/8"], host: "10.1.2.3", ok: true },
    { name: "CIDR 10.0.0.0/8 lets a name resolving inside it through", allow: ["10.0.0.0/8"], host: "tracker.lan", ok: true },
    { name: "CIDR 10.0.0.0/8 does not open 192.168.1.20", allow: ["10.0.0.0/8"], host: "office.lan", ok: false },
    { name: "CIDR 10.0.0.0/8 does not open 172.16.0.1", allow: ["10.0.0.0/8"], host: "172.16.0.1", ok: false },
    { name: "CIDR 10.1.0.0/16 lets 10.1.2.3 through", allow: ["10.1.0.0/16"], host: "10.1.2.3", ok: true },
    { name: "CIDR 10.1.0.0/16 does not open 10.2.0.1", allow: ["10.1.0.0/16"], host: "10.2.0.1", ok: false },
    { name: "CIDR 10.0.0.0/8 applies to an IPv4-mapped address", allow: ["10.0.0.0/8"], host: "[::ffff:10.1.2.3]", ok: true },
    { name: "a name resolving half inside the CIDR, half outside is blocked", allow: ["10.0.0.0/8"], host: "mixed.lan", ok: false },
    { name: "two CIDRs together cover a name resolving into both", allow: ["10.0.0.0/8", "192.168.0.0/16"], host: "mixed.lan", ok: true },
    { name: "IPv6 CIDR fd00::/8 lets fd12::1 through", allow: ["fd00::/8"], host: "[fd12::1]", ok: true },
    { name: "IPv6 CIDR fd00::/8 does not open ::1", allow: ["fd00::/8"], host: "[::1]", ok: false },
    { name: "an IPv4 CIDR does not open IPv6 loopback", allow: ["0.0.0.0/0"], host: "[::1]", ok: false },
    { name: "CIDR 127.0.0.0/8 applies to an IPv4-compatible address", allow: ["127.0.0.0/8"], host: "[::127.0.0.1]", ok: true },
    { name: "IPv6 CIDR ::1/128 lets IPv6 loopback through (::1 stays IPv6)", allow: ["::1/128"], host: "[::1]", ok: true },
  ];
  test.each(cases)("$name", async ({ allow, host, ok }) => {
    const result = await new AddressGuard(allow, dns).check(url(host));
    if (ok) expect(result).toMatchObject({ ok: true });
    else expect(result).toMatchObject({ ok: false, error: "blocked_address" });
  });

  test("an allow-listed name is fetched as it is, without a lookup", async () => {
    expect(await new AddressGuard(["tracker.lan"], noDns).check(url("tracker.lan"))).toEqual({ ok: true, addresses: null });
  });

  test("a name resolving into an allowed CIDR gives its addresses to connect to", async () => {
    expect(await new AddressGuard(["10.0.0.0/8"], dns).check(url("tracker.lan"))).toEqual({ ok: true, addresses: ["10.0.0.5"] });
  });

  test("11.0.0.1 is outside 10.0.0.0/8 but public, so it passes on its own merit", async () => {
    expect(await new AddressGuard(["10.0.0.0/8"], noDns).check(url("11.0.0.1"))).toEqual({ ok: true, addresses: null });
  });
});
