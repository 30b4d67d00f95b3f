// DNS rebinding: the address the guard checked is the address the request connects to. A name is
// resolved once per hop, every address it gives is checked, and the request goes to a checked
// address with the Host header and (https) the TLS server name of the URL — so a name that answers
// a permitted address to the guard and 127.0.0.1 to the next lookup never reaches 127.0.0.1.
//
// Real fetch, real HTTP and HTTPS servers (self-signed certificates made by openssl for the test).
// Network tests talk only to loopback, so 127.0.0.2 stands in for a public tracker: the guard's
// allow-list opens 127.0.0.2/31 (127.0.0.2-3) as it would a private tracker network; 127.0.0.1 (the
// "internal service" the rebinding aims at) stays blocked. The URLs use the name "localhost", which
// the system resolver (what fetch used to consult on its own) answers with 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { AddressGuard, type Lookup } from "../../src/delivery/address-guard.ts";
import { sendPostback, type SendOptions } from "../../src/delivery/http-request.ts";

const ALLOWED = ["127.0.0.2/31"];
const dir = mkdtempSync(join(tmpdir(), "tgcpa-rebind-"));

interface Seen {
  server: string;
  host: string | null;
  path: string;
}
const seen: Seen[] = [];
const servers: Server<unknown>[] = [];
let port = 0;
let tlsPort = 0;
let ca = "";

/** A self-signed certificate for these subject alternative names; returns PEM cert and key. */
function certificate(name: string, san: string) {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`, "-addext", `subjectAltName=${san}`], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

/** The tracker (127.0.0.2) and the internal service (127.0.0.1) on the same port, so one URL fits either. */
function listenPair(tls?: Bun.TLSOptions | Bun.TLSOptions[]): number {
  for (let tries = 0; tries < 20; tries++) {
    const tracker = Bun.serve({
      hostname: "127.0.0.2", port: 0, tls,
      fetch(req) {
        const url = new URL(req.url);
        seen.push({ server: "tracker", host: req.headers.get("host"), path: url.pathname });
        if (url.pathname.startsWith("/redirect")) return new Response(null, { status: 302, headers: { location: url.searchParams.get("to")! } });
        return new Response("OK");
      },
    });
    try {
      const internal = Bun.serve({
        hostname: "127.0.0.1", port: tracker.port!, tls,
        fetch(req) {
          seen.push({ server: "internal", host: req.headers.get("host"), path: new URL(req.url).pathname });
          return new Response("internal secrets");
        },
      });
      servers.push(tracker, internal);
      return tracker.port!;
    } catch {
      tracker.stop(true); // that port is taken on 127.0.0.1: try another
    }
  }
  throw new Error("no port free on both 127.0.0.1 and 127.0.0.2");
}

beforeAll(() => {
  const local = certificate("localhost", "DNS:localhost,IP:127.0.0.2"); // also valid for the address itself: see the test on names
  const other = certificate("other", "DNS:other.test");
  ca = local.cert + other.cert;
  port = listenPair();
  tlsPort = listenPair([{ ...local, serverName: "localhost" }, { ...other, serverName: "other.test" }]);
});

afterAll(() => {
  for (const s of servers) s.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** A resolver that answers `first` to its first lookup and `then` to every later one (a TTL-0 rebinding name). */
function rebinding(first: string[], then: string[]) {
  const lookups: string[] = [];
  const lookup: Lookup = async (host) => {
    lookups.push(host);
    return lookups.length === 1 ? first : then;
  };
  return { lookup, lookups };
}

const options = (lookup: Lookup, more: Partial<SendOptions> = {}): SendOptions =>
  ({ guard: new AddressGuard(ALLOWED, lookup), timeoutMs: 3000, maxRedirects: 3, ca, now: Date.now, ...more });
const get = (url: string) => ({ method: "GET", url, body: null, contentType: null });
const fromInternal = () => seen.filter((s) => s.server === "internal");

describe("DNS rebinding", () => {
  test("the servers are what the test says: the name localhost, fetched plainly, reaches the internal service", async () => {
    const res = await fetch(`http://localhost:${port}/plain`);
    expect(await res.text()).toBe("internal secrets");
    seen.length = 0;
  });

  test.each(["http", "https"])("%s: a name answering a permitted address, then 127.0.0.1, is sent to the checked address (3 of 3 tries)", async (scheme) => {
    const p = scheme === "http" ? port : tlsPort;
    for (let i = 0; i < 3; i++) {
      seen.length = 0;
      const { lookup, lookups } = rebinding(["127.0.0.2"], ["127.0.0.1"]);
      const report = await sendPostback(get(`${scheme}://localhost:${p}/pb?try=${i}`), options(lookup));
      expect(report.result).toMatchObject({ kind: "response", status: 200, body: "OK" });
      expect(report.url).toBe(`${scheme}://localhost:${p}/pb?try=${i}`); // the attempt log shows the name
      expect(lookups).toEqual(["localhost"]); // resolved once
      expect(seen).toEqual([{ server: "tracker", host: `localhost:${p}`, path: "/pb" }]);
    }
    expect(fromInternal()).toEqual([]);
  });

  test.each(["http", "https"])("%s: a redirect to the rebinding name is resolved again, refused, and never reaches 127.0.0.1", async (scheme) => {
    seen.length = 0;
    const p = scheme === "http" ? port : tlsPort;
    const { lookup, lookups } = rebinding(["127.0.0.2"], ["127.0.0.1"]);
    const target = `${scheme}://localhost:${p}/after`;
    const report = await sendPostback(get(`${scheme}://localhost:${p}/redirect?to=${encodeURIComponent(target)}`), options(lookup));
    expect(report.result).toMatchObject({ kind: "error", error: "blocked_address" });
    expect(lookups).toEqual(["localhost", "localhost"]);
    expect(seen.map((s) => s.path)).toEqual(["/redirect"]);
    expect(fromInternal()).toEqual([]);
  });

  test("a redirect hop is sent to its own checked address, with its own Host header", async () => {
    seen.length = 0;
    const { lookup } = rebinding(["127.0.0.2"], ["127.0.0.2"]);
    const report = await sendPostback(get(`http://localhost:${port}/redirect?to=${encodeURIComponent(`http://localhost:${port}/landed`)}`), options(lookup));
    expect(report).toMatchObject({ result: { kind: "response", status: 200 }, url: `http://localhost:${port}/landed` });
    expect(seen).toEqual([
      { server: "tracker", host: `localhost:${port}`, path: "/redirect" },
      { server: "tracker", host: `localhost:${port}`, path: "/landed" },
    ]);
  });

  test("a name with a permitted and a blocked address is refused before any request", async () => {
    seen.length = 0;
    const report = await sendPostback(get(`http://localhost:${port}/pb`), options(async () => ["127.0.0.2", "127.0.0.1"]));
    expect(report.result).toMatchObject({ kind: "error", error: "blocked_address" });
    expect(seen).toEqual([]);
  });

  test("a refused connection moves on to the next checked address", async () => {
    seen.length = 0;
    // nothing listens on 127.0.0.3 (inside the allowed /31) at this port
    const report = await sendPostback(get(`http://localhost:${port}/pb`), options(async () => ["127.0.0.3", "127.0.0.2"]));
    expect(report.result).toMatchObject({ kind: "response", status: 200 });
    expect(seen).toEqual([{ server: "tracker", host: `localhost:${port}`, path: "/pb" }]);
  });
});

describe("TLS when connecting to a checked address", () => {
  test("the TLS server name (SNI) is the URL's name: the server picks that name's certificate", async () => {
    seen.length = 0;
    // the server has two certificates; only SNI "other.test" selects the one valid for other.test
    const report = await sendPostback(get(`https://other.test:${tlsPort}/sni`), options(async () => ["127.0.0.2"]));
    expect(report.result).toMatchObject({ kind: "response", status: 200 });
    expect(seen).toEqual([{ server: "tracker", host: `other.test:${tlsPort}`, path: "/sni" }]);
  });

  test("the certificate is checked against the URL's name, not the address connected to", async () => {
    seen.length = 0;
    // "vm" resolves to 127.0.0.2; the certificate the server sends is valid for localhost and for 127.0.0.2, not for vm
    const report = await sendPostback(get(`https://vm:${tlsPort}/name`), options(async () => ["127.0.0.2"]));
    expect(report.result).toMatchObject({ kind: "error", error: "network", message: expect.stringContaining("ERR_TLS_CERT_ALTNAME_INVALID") });
    expect(seen).toEqual([]);
  });

  test("without the test's root certificates the self-signed one is refused (the check is on)", async () => {
    const report = await sendPostback(get(`https://localhost:${tlsPort}/untrusted`), options(async () => ["127.0.0.2"], { ca: undefined }));
    expect(report.result).toMatchObject({ kind: "error", error: "network" });
  });
});
