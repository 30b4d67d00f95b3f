import { describe, expect, test } from "bun:test";
import { clientAddressResolver, clientFromForwarded } from "../../src/http/client-address.ts";
import { parseAddress, rangeMatcher } from "../../src/lib/addresses.ts";

const trustedBy = (entries: string[]) => {
  const inRange = rangeMatcher(entries);
  return (address: string) => {
    const ip = parseAddress(address);
    return ip !== null && inRange(ip);
  };
};

describe("clientFromForwarded: the right-most address that is not a trusted proxy", () => {
  const PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8"];
  const cases: { name: string; peer: string; xff: string | null; trusted?: string[]; client: string }[] = [
    { name: "no proxy trusted: the peer, whatever the header says", peer: "127.0.0.1", xff: "203.0.113.9", trusted: [], client: "127.0.0.1" },
    { name: "an untrusted peer's header is ignored (forged)", peer: "198.51.100.4", xff: "203.0.113.9", client: "198.51.100.4" },
    { name: "a trusted peer without the header: the peer", peer: "127.0.0.1", xff: null, client: "127.0.0.1" },
    { name: "a trusted proxy: its X-Forwarded-For", peer: "127.0.0.1", xff: "203.0.113.9", client: "203.0.113.9" },
    { name: "a chain of trusted proxies is walked past", peer: "127.0.0.1", xff: "203.0.113.9, 10.1.2.3", client: "203.0.113.9" },
    { name: "a client's own forged entry on the left is not believed", peer: "127.0.0.1", xff: "1.1.1.1, 203.0.113.9", client: "203.0.113.9" },
    { name: "every hop trusted: the left-most one", peer: "127.0.0.1", xff: "10.0.0.5, 10.0.0.6", client: "10.0.0.5" },
    { name: "garbage stops the walk at the last address a trusted proxy vouched for", peer: "127.0.0.1", xff: "203.0.113.9, not-an-ip", client: "127.0.0.1" },
    { name: "an IPv4-mapped peer counts as its IPv4 address", peer: "::ffff:127.0.0.1", xff: "203.0.113.9", client: "203.0.113.9" },
    { name: "IPv6 client behind an IPv6 proxy", peer: "::1", xff: "2001:db8::7", client: "2001:db8::7" },
    { name: "a port and brackets some proxies add are dropped", peer: "127.0.0.1", xff: "[2001:db8::7]:4711, 203.0.113.9:5555", client: "203.0.113.9" },
    { name: "one spelling per address (IPv4-mapped in the header)", peer: "127.0.0.1", xff: "::FFFF:203.0.113.9", client: "203.0.113.9" },
    { name: "empty entries are garbage too", peer: "127.0.0.1", xff: ", ", client: "127.0.0.1" },
  ];
  test.each(cases)("$name", ({ peer, xff, trusted = PROXIES, client }) => {
    expect(clientFromForwarded(peer, xff, trustedBy(trusted))).toBe(client);
  });
});

describe("clientAddressResolver", () => {
  const server = (address: string) => ({ requestIP: () => ({ address }) });
  const request = (xff?: string) => new Request("http://t/api/postback", { headers: xff ? { "x-forwarded-for": xff } : {} });

  test("reads the peer from the server and the header from the request", () => {
    const resolve = clientAddressResolver(["127.0.0.1"]);
    expect(resolve(request("203.0.113.9"), server("127.0.0.1"))).toBe("203.0.113.9");
    expect(resolve(request("203.0.113.9"), server("192.0.2.1"))).toBe("192.0.2.1");
  });

  test("no server (the app called without a socket): no address", () => {
    expect(clientAddressResolver(["127.0.0.1"])(request("203.0.113.9"), null)).toBeNull();
  });
});
