// The session cookie is Secure whenever the sign-in came over https: here, through a trusted
// reverse proxy that says so in X-Forwarded-Proto (as Caddy and nginx do), with server.public_url
// unset as in the shipped deploy config. The header from a peer that is not a trusted proxy is
// ignored. Peers are real loopback addresses: 127.0.0.1 is the proxy, 127.0.0.2 is not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { request } from "node:http";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ server: { host: "127.0.0.1", port: 0, trusted_proxies: ["127.0.0.1"] }, campaigns: [{ code: "c1" }] });
});
afterAll(() => svc?.stop());

/** The Set-Cookie header of a sign-in (or sign-out) sent from `from` with `headers`. */
function setCookie(from: string, method: "POST" | "DELETE", headers: Record<string, string>): Promise<{ status: number; cookie: string }> {
  const { port } = new URL(svc.url);
  const body = method === "POST" ? JSON.stringify({ key: API_KEY }) : undefined;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path: "/api/session", localAddress: from, headers: { "content-type": "application/json", ...headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, cookie: String(res.headers["set-cookie"] ?? "") }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const secure = (cookie: string) => /;\s*Secure\b/i.test(cookie);

describe("the session cookie behind a trusted https proxy", () => {
  test("X-Forwarded-Proto: https from the trusted proxy → Secure, at sign-in and at sign-out", async () => {
    const signIn = await setCookie("127.0.0.1", "POST", { "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7" });
    expect(signIn.status).toBe(200);
    expect(signIn.cookie).toContain("tgcpa_session=");
    expect(secure(signIn.cookie)).toBe(true);
    const signOut = await setCookie("127.0.0.1", "DELETE", { "x-forwarded-proto": "https", "x-requested-with": "test" });
    expect(signOut.status).toBe(200);
    expect(secure(signOut.cookie)).toBe(true);
  });

  test("plain http through the proxy → not Secure (the browser would drop a Secure cookie on http)", async () => {
    for (const proto of [undefined, "http"]) {
      const a = await setCookie("127.0.0.1", "POST", proto ? { "x-forwarded-proto": proto } : {});
      expect({ proto, status: a.status, secure: secure(a.cookie) }).toEqual({ proto, status: 200, secure: false });
    }
  });

  test("the header from a peer that is not a trusted proxy is ignored", async () => {
    const a = await setCookie("127.0.0.2", "POST", { "x-forwarded-proto": "https" });
    expect(a.status).toBe(200);
    expect(secure(a.cookie)).toBe(false);
  });
});
