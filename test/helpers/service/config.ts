// The config every test service starts from (in-process or as a subprocess).
import { join } from "node:path";

/** The management API key of every test config. */
export const API_KEY = "test-key-0123456789abcdef0123456789abcdef";

/** A config as a test writes it: the YAML's shape, unchecked (the service checks it). */
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
