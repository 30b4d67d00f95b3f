// Several service processes on one PostgreSQL database (issue 20): each a full tgcpa with its own
// config file and port, started by the one subprocess fixture (spawnService), sharing storage.url.
import { SQL } from "bun";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PG_ADMIN_URL, type TestDatabase } from "../postgres.ts";
import { testConfig, type ConfigInput } from "./config.ts";
import { spawnService, type ServiceProcess } from "./subprocess.ts";

export interface InstancesOptions {
  /** A folder per instance is made under it (i1, i2, …). */
  dir: string;
  db: TestDatabase;
  /** The config every instance runs (test defaults, storage on `db`); `each` adds to it per instance. */
  config: ConfigInput;
  each?: (index: number) => ConfigInput;
  env?: Record<string, string | undefined>;
  /** Started all at once (a cold start) rather than one after the other. */
  together?: boolean;
}

/** The config of instance `index` (1-based) on the shared database. */
export function instanceConfig(o: InstancesOptions, index: number): { dir: string; config: ConfigInput } {
  const dir = join(o.dir, `i${index}`);
  mkdirSync(dir, { recursive: true });
  const extra = o.each?.(index) ?? {};
  const config = testConfig(dir, { ...o.config, ...extra, storage: { driver: "postgres", url: o.db.url, pool_size: 4 } });
  return { dir, config };
}

/** Starts `n` instances on the database and waits for each one's /health. */
export async function spawnInstances(n: number, o: InstancesOptions): Promise<ServiceProcess[]> {
  const start = (i: number) => {
    const { dir, config } = instanceConfig(o, i);
    return spawnService({ dir, config, env: o.env, healthTimeoutMs: 60_000 });
  };
  const indexes = Array.from({ length: n }, (_, i) => i + 1);
  if (o.together) return Promise.all(indexes.map(start));
  const out: ServiceProcess[] = [];
  for (const i of indexes) out.push(await start(i));
  return out;
}

/** The instance id each process reports for itself (GET /api/instances, `self`). */
export async function instanceId(s: ServiceProcess): Promise<string> {
  const res = await s.api("GET", "/api/instances");
  return (res.body.items as { id: string; self: boolean }[]).find((i) => i.self)!.id;
}

/** An admin connection to the server (pg_stat_activity, pg_terminate_backend); close it after use. */
export const adminSql = () => new SQL(PG_ADMIN_URL, { max: 1 });

/** Terminates every connection the service processes hold to `db` (as a failover or an operator would); how many. */
export async function terminateConnections(admin: SQL, db: TestDatabase): Promise<number> {
  const rows = await admin`SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity
    WHERE datname = ${db.name} AND application_name LIKE 'tgcpa %' AND pid <> pg_backend_pid()`;
  return rows.filter((r: { gone: boolean }) => r.gone).length;
}
