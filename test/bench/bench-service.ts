// The service as the bench runs it: one config for every run (one campaign whose `wait`
// postback goes to the local receiver), its temp directories, and its environment.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Synchronous } from "../../src/config/model.ts";
import { API_KEY, type ConfigInput } from "../helpers/service/config.ts";

export const CAMPAIGN = "bench";

export const trackerTemplate = (port: number) =>
  `http://127.0.0.1:${port}/pb?click={click}&status={status}&lead={lead}&event={event}`;

/** The config of every bench run: one campaign whose `wait` postback goes to the local receiver. */
export function benchConfig(dir: string, o: { receiverPort: number; synchronous?: Synchronous; inFlight: number; noTemplates?: boolean }): ConfigInput {
  return {
    server: { host: "127.0.0.1", port: 0 },
    storage: { path: join(dir, "tgcpa.db"), synchronous: o.synchronous ?? "FULL" },
    log: { level: "warn" },
    api_keys: [API_KEY],
    delivery: {
      allow_hosts: ["127.0.0.1"], timeout_ms: 5000, max_in_flight: o.inFlight, per_host_in_flight: o.inFlight,
      shutdown_grace_ms: 2000,
    },
    postbacks: o.noTemplates ? {} : { wait: trackerTemplate(o.receiverPort) },
    campaigns: [{ code: CAMPAIGN, name: "bench" }],
  };
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), `tgcpa-bench-${tag}-`));
}

export function removeDir(dir: string) {
  if (process.env.BENCH_KEEP_DIRS === "1") return;
  rmSync(dir, { recursive: true, force: true });
}

/** Extra environment for the service process: BENCH_PROFILE_DIR=DIR makes it write a CPU profile there. */
export function serviceEnv(): Record<string, string> | undefined {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? { BUN_OPTIONS: `--cpu-prof --cpu-prof-md --cpu-prof-dir=${resolve(dir)}` } : undefined;
}
