// API keys cannot be guessed at speed: every way of presenting one (Authorization: Bearer, ?key=,
// the dashboard sign-in) shares one budget of wrong keys per client address and a ceiling for all
// addresses together; past it the address's keys get 429 with Retry-After without being checked.
// Client addresses are real loopback peers (127.0.1.x, 127.0.2.x bound as the source address).
// The limiter runs on real time: a slot comes back after 60/N s, far longer than these loops take.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { processTestDir, runCommand } from "../helpers/service/subprocess.ts";

const PER_ADDRESS = 5;
const ALL_ADDRESSES = 12;
const WRONG = "wrong-key-0123456789abcdef0123456789abcdef";

const cleanup = cleanupAfterEach();

async function setup(): Promise<TestService> {
  const svc = await startTestService({
    rate_limits: { api_key_failures_per_minute: PER_ADDRESS, api_key_failures_all_per_minute: ALL_ADDRESSES },
    campaigns: [{ code: "c1" }],
  });
  cleanup.push(() => svc.stop());
  return svc;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** One request from the loopback address `from`. */
function send(svc: TestService, from: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const { port } = new URL(svc.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, localAddress: from }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] as string | undefined, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const bearer = (svc: TestService, from: string, key: string) => send(svc, from, "GET", "/api/leads", { authorization: `Bearer ${key}` });
const query = (svc: TestService, from: string, key: string) => send(svc, from, "GET", `/api/session?key=${encodeURIComponent(key)}`);
const signIn = (svc: TestService, from: string, key: string) =>
  send(svc, from, "POST", "/api/session", { "content-type": "application/json" }, JSON.stringify({ key }));

function expectLimited(a: Answer) {
  expect(a.status).toBe(429);
  expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(a.retryAfter)).toBeLessThanOrEqual(Math.ceil(60 / PER_ADDRESS));
  expect(JSON.parse(a.body)).toMatchObject({ error: { code: "rate_limited" } });
}

describe("API key guessing", () => {
  test("a guessing loop with Bearer: 5 wrong keys answered 401, the other 495 get 429 unchecked; a right key from another address is served", async () => {
    const svc = await setup();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 500; i++) {
      const a = await bearer(svc, "127.0.1.2", `guess-${i}-0123456789abcdef0123456789abcdef`);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (i === PER_ADDRESS) expectLimited(a);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: PER_ADDRESS, 429: 500 - PER_ADDRESS });
    // Past its limit the address's keys are not checked: the right one would stand out from the 429s.
    expectLimited(await bearer(svc, "127.0.1.2", API_KEY));
    expect((await bearer(svc, "127.0.1.1", API_KEY)).status).toBe(200);
  });

  test("a right key never costs a slot: 40 requests and 10 sign-ins with it, then the 5 wrong keys are still answered", async () => {
    const svc = await setup();
    for (let i = 0; i < 40; i++) expect((await (i % 2 ? bearer : query)(svc, "127.0.1.3", API_KEY)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await signIn(svc, "127.0.1.3", API_KEY)).status).toBe(200);
    for (let i = 0; i < PER_ADDRESS; i++) expect((await bearer(svc, "127.0.1.3", WRONG)).status).toBe(401);
    expectLimited(await bearer(svc, "127.0.1.3", WRONG));
  });

  test("Bearer, ?key= and the dashboard sign-in share one budget per address", async () => {
    const svc = await setup();
    expect((await bearer(svc, "127.0.1.4", WRONG)).status).toBe(401);
    expect((await bearer(svc, "127.0.1.4", WRONG)).status).toBe(401);
    expect((await query(svc, "127.0.1.4", WRONG)).status).toBe(401);
    expect((await query(svc, "127.0.1.4", WRONG)).status).toBe(401);
    expect((await signIn(svc, "127.0.1.4", WRONG)).status).toBe(401);
    for (const guess of [bearer, query, signIn]) expectLimited(await guess(svc, "127.0.1.4", WRONG));
    const refused = await signIn(svc, "127.0.1.4", API_KEY); // no cookie for the right key either, while limited
    expectLimited(refused);
    // another address still signs in and gets its cookie
    const other = await signIn(svc, "127.0.1.5", API_KEY);
    expect(other.status).toBe(200);
  });

  test("all addresses together: past the ceiling a new address's keys get 429, an address that presented a valid key is still served", async () => {
    const svc = await setup();
    expect((await bearer(svc, "127.0.1.10", API_KEY)).status).toBe(200); // a script already at work
    const statuses: number[] = [];
    for (let n = 1; n <= ALL_ADDRESSES + 3; n++) statuses.push((await bearer(svc, `127.0.2.${n}`, WRONG)).status); // one guess from each
    expect(statuses).toEqual([...Array(ALL_ADDRESSES).fill(401), 429, 429, 429]);
    expectLimited(await bearer(svc, "127.0.2.50", API_KEY)); // a fresh address: not checked
    expect((await bearer(svc, "127.0.1.10", API_KEY)).status).toBe(200);
    expect((await signIn(svc, "127.0.1.10", API_KEY)).status).toBe(200);
  });

  test("with server.metrics_public: false, a wrong key on /metrics costs a slot like any other", async () => {
    const svc = await startTestService({
      server: { host: "127.0.0.1", port: 0, metrics_public: false },
      rate_limits: { api_key_failures_per_minute: PER_ADDRESS, api_key_failures_all_per_minute: ALL_ADDRESSES },
    });
    cleanup.push(() => svc.stop());
    const scrape = (from: string, key: string) => send(svc, from, "GET", "/metrics", { authorization: `Bearer ${key}` });
    for (let i = 0; i < PER_ADDRESS; i++) expect((await scrape("127.0.1.30", WRONG)).status).toBe(401);
    expectLimited(await scrape("127.0.1.30", WRONG));
    expectLimited(await bearer(svc, "127.0.1.30", WRONG)); // the same budget as the API's
    expect((await scrape("127.0.1.31", API_KEY)).status).toBe(200);
  });

  test("/metrics counts wrong keys by how they came and whether they were refused or limited", async () => {
    const svc = await setup();
    for (let i = 0; i < 3; i++) await bearer(svc, "127.0.1.20", WRONG);
    for (let i = 0; i < 2; i++) await query(svc, "127.0.1.20", WRONG);
    await signIn(svc, "127.0.1.20", WRONG); // the 6th: limited
    await bearer(svc, "127.0.1.20", WRONG);
    await bearer(svc, "127.0.1.21", API_KEY); // not counted
    const page = await (await fetch(`${svc.url}/metrics`)).text();
    const sample = (labels: string) => Number(new RegExp(`^tgcpa_auth_failures_total\\{${labels}\\} (\\d+)$`, "m").exec(page)?.[1] ?? 0);
    expect({
      bearerRefused: sample('via="bearer",answer="refused"'),
      queryRefused: sample('via="query",answer="refused"'),
      signInLimited: sample('via="sign_in",answer="limited"'),
      bearerLimited: sample('via="bearer",answer="limited"'),
    }).toEqual({ bearerRefused: 3, queryRefused: 2, signInLimited: 1, bearerLimited: 1 });
  });
});

describe("check-config and key length", () => {
  const dir = processTestDir("keys");

  test("api_keys and inbound_keys shorter than 32 characters are refused with the reason and their YAML path; the key is not shown", async () => {
    const file = join(dir, "short.yaml");
    writeFileSync(file, `api_keys: ["a"]\ninbound_keys: ["${API_KEY}", "inbound-short"]\n`);
    const run = await runCommand(["check-config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("api_keys[0] (line 1): is shorter than 32 characters, too easy to guess; make one with: openssl rand -hex 32");
    expect(run.stderr).toContain("inbound_keys[1] (line 2): is shorter than 32 characters");
    expect(run.stderr).not.toContain("inbound-short");
    writeFileSync(file, `api_keys: ["${"0123456789abcdef".repeat(2)}"]\n`);
    expect((await runCommand(["check-config", file])).code).toBe(0);
  });

  test.each(["config/example.yaml", "deploy/tgcpa.yaml"])("the shipped %s passes check-config", async (file) => {
    const run = await runCommand(["check-config", file], { env: {} });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  });
});
