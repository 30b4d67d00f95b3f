// The one fixture for the real service as a child process — `bun src/main.ts` or a built binary —
// for what is about processes: a crash (SIGKILL), a clean stop (SIGTERM), a restart on the same
// database, the command line. It writes the config with a free port, waits for GET /health,
// captures the output, stops or kills, and cleans up its temp dir. Used by test/faults,
// test/process, test/db, test/deploy, test/security and the benchmarks alike.
import { afterAll, expect } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../net.ts";
import { callApi, type ApiAnswer, type ApiClient } from "./api-client.ts";
import type { ConfigInput } from "./config.ts";
import { dropDatabasesUnder, storageFor } from "./database.ts";

/** The repository's root folder (the default working directory of a child). */
export const REPO_ROOT = resolve(import.meta.dir, "../../..");
const MAIN = join(REPO_ROOT, "src/main.ts");

/** Every child still alive; killAllServices() (afterAll) and the exit of the test process kill them. */
const live = new Set<Subprocess>();
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** Every service process started, in order: their output is what a failed test prints. */
const started: ServiceProcess[] = [];

/** Kills `proc` (SIGKILL) with the others when the test process ends or killAllServices() runs. */
export function trackChild<P extends Subprocess>(proc: P): P {
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  return proc;
}

/** The child's environment: the test process's, with `env` on top (an undefined value removes the variable). */
function childEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out as Record<string, string>;
}

export interface ServiceProcess extends ApiClient {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  port: number;
  url: string;
  configPath: string;
  /** Everything the child wrote so far (stdout and stderr interleaved by chunk). */
  output(): string;
  /** Calls the API with the test key; returns status, headers and parsed JSON (30 s bound per call). */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
  /** kill -9 and wait until the process is gone; returns the exit code (null when killed by a signal) . */
  kill(): Promise<number | null>;
  /** SIGTERM (a clean stop); SIGKILL if it has not exited after `timeoutMs`. Returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  /** Directory for config.yaml (the database path comes from `config`). */
  dir: string;
  /** The config (written as JSON, which is YAML); server.host/port are filled in. */
  config: ConfigInput;
  /** Preferred port (e.g. the one of a previous run); a free one is picked when absent or taken. */
  port?: number;
  healthTimeoutMs?: number;
  env?: Record<string, string | undefined>;
  /** What runs the service; `--config FILE` is appended. Default: `bun src/main.ts`. */
  command?: string[];
  /** Working directory of the child; default the repository root. */
  cwd?: string;
  /**
   * false: return once the child is started, without waiting for GET /health — for a bench drain,
   * where the dispatcher may keep the event loop so busy that /health answers only minutes later.
   */
  waitForHealth?: boolean;
}

/**
 * Writes the config with a concrete port, starts the service and waits until GET /health
 * answers 200. Retries with another port if the chosen one turned out to be taken.
 */
export async function spawnService(opts: SpawnOptions): Promise<ServiceProcess> {
  let port = opts.port ?? (await freePort());
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(opts, port);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 5) throw err;
      port = await freePort();
    }
  }
}

class PortTaken extends Error {}

async function spawnOnce(opts: SpawnOptions, port: number): Promise<ServiceProcess> {
  const configPath = join(opts.dir, "config.yaml");
  const server = { ...((opts.config.server as object) ?? {}), host: "127.0.0.1", port };
  // On PostgreSQL (TGCPA_TEST_STORAGE) storage.path stands for a database of its own, the same at each restart.
  const storage = await storageFor(opts.config.storage as Record<string, unknown> | undefined, opts.dir);
  writeFileSync(configPath, JSON.stringify({ ...opts.config, server, ...(storage ? { storage } : {}) }, null, 2));
  const proc = trackChild(Bun.spawn([...(opts.command ?? [process.execPath, MAIN]), "--config", configPath], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  }));
  const chunks: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) chunks.push(decoder.decode(chunk, { stream: true }));
  };
  const drained = Promise.all([drain(proc.stdout), drain(proc.stderr)]).catch(() => {});
  const output = () => chunks.join("");
  const url = `http://127.0.0.1:${port}`;

  const handle: ServiceProcess = {
    proc, pid: proc.pid, port, url, configPath, output,
    api: (method, path, body, headers) => callApi(url, method, path, body, headers, 30_000),
    async kill() {
      proc.kill("SIGKILL");
      const code = await proc.exited;
      await drained;
      return code;
    },
    async stop(timeoutMs = 15_000) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const code = await proc.exited;
      clearTimeout(timer);
      await drained;
      return code;
    },
  };

  if (opts.waitForHealth === false) {
    started.push(handle);
    return handle;
  }
  const deadline = Date.now() + (opts.healthTimeoutMs ?? 30_000);
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (true) {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (res?.status === 200) {
      await res.arrayBuffer();
      started.push(handle);
      return handle;
    }
    if (exited || Date.now() > deadline) {
      await handle.kill();
      const text = output();
      if (/EADDRINUSE|address already in use|port \d+ in use/i.test(text)) throw new PortTaken(text);
      throw new Error(`service did not become healthy on ${url} (${exited ? `exited with ${proc.exitCode}` : "timed out"}):\n${text}`);
    }
    await Bun.sleep(25);
  }
}

export interface CommandRun {
  /** The exit code; not 0 or the expected one when the command was killed at its timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the program to its end with `args` — `check-config`, `backup`, `restore`, `--version`, or a
 * start that must be refused — and returns its exit code and output. Killed after `timeoutMs`
 * (default 30 s): a command that starts the service instead of answering fails.
 */
export async function runCommand(
  args: string[],
  opts: { command?: string[]; cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CommandRun> {
  const proc = trackChild(Bun.spawn([...(opts.command ?? [process.execPath, MAIN]), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  }));
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Kills (SIGKILL) every child that is still running and waits for them; for afterAll/finally. */
export async function killAllServices(): Promise<void> {
  const procs = [...live];
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
}

/** Number of children started by this helper that are still running. */
export const liveServices = () => live.size;

/**
 * Runs a test's body around service processes: when it fails, prints the output of the last
 * three services it started (the runs before a failure); in every case kills what is still
 * running afterwards and checks that nothing is left.
 */
export async function withServices<T>(what: string, body: () => Promise<T>): Promise<T> {
  const first = started.length;
  try {
    return await body();
  } catch (err) {
    const outputs = started.slice(first).slice(-3).map((s) => s.output());
    if (outputs.length) console.error(`${what} failed; service output (last runs):\n${outputs.join("\n---\n")}`);
    throw err;
  } finally {
    await killAllServices();
    expect(liveServices()).toBe(0);
  }
}

/**
 * The temp directory of one test file's subprocess tests. After the file, every child still
 * running is killed, then `close` runs (fake trackers), then the directory is removed.
 */
export function processTestDir(tag: string, close: () => unknown = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), `tgcpa-${tag}-`));
  afterAll(async () => {
    await killAllServices();
    await close();
    rmSync(dir, { recursive: true, force: true });
    await dropDatabasesUnder(dir);
  });
  return dir;
}
