// Helper processes of the bench (receiver, bare servers, load clients): bun scripts under
// test/bench/, each in its own process, talking to 127.0.0.1 only.
import type { Subprocess } from "bun";
import { join } from "node:path";
import { REPO_ROOT, trackChild } from "../helpers/service/subprocess.ts";

export interface Helper {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** First JSON line the script printed (e.g. {"port": 1234}). */
  hello: Record<string, any>;
  /** Waits for exit and returns the last JSON line printed (the script's result). */
  result(timeoutMs: number): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

/** Runs `bun test/bench/<script> ...args`; resolves once it printed its first JSON line. */
export async function startHelper(script: string, args: string[], opts: { waitHello?: boolean; timeoutMs?: number } = {}): Promise<Helper> {
  const proc = trackChild(Bun.spawn([process.execPath, join(import.meta.dir, script), ...args], {
    cwd: REPO_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env },
  }));
  const lines: string[] = [];
  let err = "";
  let helloResolve: (v: Record<string, any>) => void = () => {};
  const helloPromise = new Promise<Record<string, any>>((r) => (helloResolve = r));
  const readOut = (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line.startsWith("{")) {
          lines.push(line);
          if (lines.length === 1) helloResolve(JSON.parse(line));
        }
      }
    }
  })();
  const readErr = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) err += decoder.decode(chunk, { stream: true });
  })();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let hello: Record<string, any> = {};
  if (opts.waitHello !== false) {
    const timer = new Promise<null>((r) => setTimeout(() => r(null), timeoutMs));
    const first = await Promise.race([helloPromise, timer, proc.exited.then(() => null)]);
    if (!first) {
      proc.kill("SIGKILL");
      throw new Error(`${script} did not start: ${err.slice(-2000)}`);
    }
    hello = first;
  }
  return {
    proc, hello,
    async result(ms) {
      const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
      const code = await proc.exited;
      clearTimeout(timer);
      await Promise.all([readOut, readErr]).catch(() => {});
      const last = lines.at(-1);
      if (code !== 0 || !last) throw new Error(`${script} exited with ${code}:\n${err.slice(-3000)}`);
      return JSON.parse(last);
    },
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

/** The counting tracker (servers.ts receiver) in its own process. */
export class Receiver {
  private constructor(private readonly helper: Helper, readonly port: number) {}

  static async start(): Promise<Receiver> {
    const h = await startHelper("servers.ts", ["receiver"]);
    return new Receiver(h, h.hello.port);
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async stats(): Promise<ReceiverStats> {
    const res = await fetch(`${this.base}/__stats`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as ReceiverStats;
  }

  async reset() {
    await (await fetch(`${this.base}/__reset`, { method: "POST", signal: AbortSignal.timeout(10_000) })).arrayBuffer();
  }

  /** Polls until `count` requests arrived; bounded by `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number, onTick?: () => void): Promise<ReceiverStats> {
    const end = Date.now() + timeoutMs;
    while (true) {
      const s = await this.stats();
      onTick?.();
      if (s.count >= count || Date.now() > end) return s;
      await Bun.sleep(100);
    }
  }

  stop() {
    return this.helper.stop();
  }
}

export interface ReceiverStats {
  count: number;
  distinct: number;
  /** ms timestamps (receiver's performance clock) of the first and last request since reset. */
  first: number;
  last: number;
}
