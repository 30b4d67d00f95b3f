// The real service started inside the test process (src/service.ts startService): a real HTTP
// server on 127.0.0.1 and a real SQLite file, from a YAML file, with an injectable clock and the
// logs kept in memory. For what is about processes (kills, signals, the binary) see subprocess.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Database } from "bun:sqlite";
import type { Clock } from "../../../src/lib/clock.ts";
import { createLogger } from "../../../src/lib/logger.ts";
import { startService, type Service } from "../../../src/server.ts";
import type { SqliteStorage } from "../../../src/storage/sqlite/store.ts";
import { callApi, type ApiClient } from "./api-client.ts";
import { testConfig, type ConfigInput } from "./config.ts";
import { dropDatabasesUnder, onPostgres, openTestDb, storageFor, type TestDb } from "./database.ts";

export interface TestService extends ApiClient {
  svc: Service;
  dir: string;
  configPath: string;
  logs: string[];
  url: string;
  /** Rewrites the config file (for reload tests). */
  writeConfig(config: ConfigInput): void;
  /** The SQLite connection behind the storage port, for a test that looks at rows directly (SQLite only). */
  sqlite(): Database;
  /** The service's database from outside, on either engine (close it after use). */
  db(opts?: { readonly?: boolean }): Promise<TestDb>;
  stop(): Promise<void>;
}

/** Starts the real service (real HTTP server on 127.0.0.1, real SQLite file) from a YAML file. */
export async function startTestService(
  overrides: ConfigInput | ((dir: string) => ConfigInput) = {},
  opts: { clock?: Clock; dir?: string; random?: () => number; keepDir?: boolean; port?: number } = {},
): Promise<TestService> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "tgcpa-test-"));
  const configPath = join(dir, "config.yaml");
  const writeFile = (config: ConfigInput) => writeFileSync(configPath, JSON.stringify(config, null, 2)); // JSON is YAML
  const initial = testConfig(dir, typeof overrides === "function" ? overrides(dir) : overrides);
  const storagePath = String((initial.storage as { path?: string } | undefined)?.path ?? join(dir, "tgcpa.db"));
  // On PostgreSQL (TGCPA_TEST_STORAGE) the config's storage.path stands for a database of its own;
  // a rewritten config keeps that database (a reload does not change it).
  const engineStorage = await storageFor(initial.storage as Record<string, unknown> | undefined, dir);
  writeFile({ ...initial, storage: engineStorage });
  const writeConfig = (config: ConfigInput) => writeFile(onPostgres ? { ...config, storage: engineStorage } : config);
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
    if (!opts.dir) {
      rmSync(dir, { recursive: true, force: true }); // a refused start leaves nothing behind
      await dropDatabasesUnder(dir);
    }
    throw err;
  }
  return {
    svc, dir, configPath, logs, url: svc.url, writeConfig,
    sqlite: () => {
      if (svc.deps.storage.engine !== "sqlite") throw new Error("this test reads SQLite rows directly");
      return (svc.deps.storage as SqliteStorage).db.$client;
    },
    db: (o) => openTestDb(storagePath, o),
    api: (method, path, body, headers) => callApi(svc.url, method, path, body, headers),
    async stop() {
      await svc.stop();
      if (!opts.keepDir) {
        rmSync(dir, { recursive: true, force: true });
        await dropDatabasesUnder(dir);
      }
    },
  };
}
