// Runs the real service as a child process (`bun src/main.ts --config FILE`) for process-level
// tests: crash (SIGKILL), graceful stop (SIGTERM), restart on the same database.
import { afterAll } from "bun:test";
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { API_KEY, type ConfigInput } from "./service.ts";

const ROOT = resolve(import.meta.dir, "../..");
const MAIN = join(ROOT, "src/main.ts");

/** Every child still alive; killAllServices() (afterAll) and process exit kill them. */
const live = new Set<Subprocess>();
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

/** A port that was free a moment ago (listen on 0, close, reuse); callers retry on EADDRINUSE. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

export interface ServiceProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  pid: number;
  port: number;
  url: string;
  configPath: string;
  /** Everything the child wrote so far (stdout and stderr interleaved by chunk). */
  output(): string;
  /** Calls the API with the test key; returns status, headers and parsed JSON. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
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
  writeFileSync(configPath, JSON.stringify({ ...opts.config, server }, null, 2));
  const proc = Bun.spawn([...(opts.command ?? [process.execPath, MAIN]), "--config", configPath], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
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
    async api(method, path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, headers: res.headers, body: parsed };
    },
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

  const deadline = Date.now() + (opts.healthTimeoutMs ?? 30_000);
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (true) {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (res?.status === 200) {
      await res.arrayBuffer();
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

/** Kills (SIGKILL) every child that is still running and waits for them; for afterAll/finally. */
export async function killAllServices(): Promise<void> {
  const procs = [...live];
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
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
  });
  return dir;
}

/** Number of children started by this helper that are still running. */
export const liveServices = () => live.size;
