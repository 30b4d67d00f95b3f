import { expect } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { createLogger } from "../../src/lib/logger.ts";
import { startService, type Service } from "../../src/server.ts";
import type { Clock } from "../../src/lib/clock.ts";

export const API_KEY = "test-key-0123456789";

export type ConfigInput = Record<string, unknown>;

/** A config for tests: real SQLite file in a temp dir, local trackers allowed, no jitter. */
export function testConfig(dir: string, overrides: ConfigInput = {}): ConfigInput {
  const base: ConfigInput = {
    server: { host: "127.0.0.1", port: 0 },
    storage: { path: join(dir, "tgcpa.db") },
    log: { level: "debug" },
    api_keys: [API_KEY],
    delivery: { allow_hosts: ["127.0.0.1"], timeout_ms: 2000, lease_ms: 5000, jitter: 0, shutdown_grace_ms: 500 },
  };
  const delivery = { ...(base.delivery as object), ...((overrides.delivery as object) ?? {}) };
  return { ...base, ...overrides, delivery };
}

export interface TestService {
  svc: Service;
  dir: string;
  configPath: string;
  logs: string[];
  url: string;
  /** Calls the API with the test key; returns status and parsed JSON. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Rewrites the config file (for reload tests). */
  writeConfig(config: ConfigInput): void;
  stop(): Promise<void>;
}

/** Starts the real service (real HTTP server on 127.0.0.1, real SQLite file) from a YAML file. */
export async function startTestService(
  overrides: ConfigInput | ((dir: string) => ConfigInput) = {},
  opts: { clock?: Clock; dir?: string; random?: () => number; keepDir?: boolean; port?: number } = {},
): Promise<TestService> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "tgcpa-test-"));
  const configPath = join(dir, "config.yaml");
  const writeConfig = (config: ConfigInput) => writeFileSync(configPath, JSON.stringify(config, null, 2)); // JSON is YAML
  writeConfig(testConfig(dir, typeof overrides === "function" ? overrides(dir) : overrides));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  let svc: Service;
  try {
    svc = await startService({ configPath, clock: opts.clock, logger: createLogger("debug", sink), port: opts.port ?? 0, random: opts.random ?? (() => 0.5), env: {} });
  } catch (err) {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true }); // a refused start leaves nothing behind
    throw err;
  }
  return {
    svc, dir, configPath, logs, url: svc.url, writeConfig,
    async api(method, path, body, headers = {}) {
      const res = await fetch(`${svc.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed };
    },
    async stop() {
      await svc.stop();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` is true (real time); for waiting on asynchronous delivery, never for timing. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition") {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** A free TCP port on 127.0.0.1 (for configs that must name their own address, e.g. a webhook URL). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** GET /api/postbacks (up to 500, newest first); `query` is appended, e.g. `&state=failed`. */
export async function listPostbacks(svc: TestService, query = ""): Promise<any[]> {
  const res = await svc.api("GET", `/api/postbacks?limit=500${query}`);
  expect(res.status).toBe(200);
  return res.body.items as any[];
}

/** Resolves once no postback is pending. */
export const outboxSettled = (svc: TestService) =>
  eventually(async () => (await listPostbacks(svc, "&state=pending")).length === 0, 5000, "outbox settled");

/** One event through POST /api/events (campaign c1 unless given) that must apply; the lead and event ids the macros will carry. */
export async function applyEvent(svc: TestService, body: Record<string, unknown>) {
  const res = await svc.api("POST", "/api/events", { campaign: "c1", ...body });
  expect(res.status).toBe(200);
  expect(res.body.applied).toBe(true);
  return { lead: res.body.lead.id as number, event: res.body.events[0].id as number, postbacks: res.body.postbacks as any[] };
}
