// Slow bodies: a request body must arrive within a deadline proportional to its size (5 s and
// 10 s per MiB declared), and a client address without a key has a bounded number of requests in
// progress, so slow unauthenticated clients cannot starve keyed ones. The starving case is real: a
// service with 300 file descriptors (prlimit) and 400 connections trickling a declared 60 KB body a
// byte at a time from 40 loopback addresses; before, every one was held and /health timed out.
// All traffic is on 127.0.0.0/8, bounded in count and time, and stops by itself.
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { eventually } from "../helpers/eventually.ts";
import { API_KEY, testConfig } from "../helpers/service/config.ts";
import { startTestService } from "../helpers/service/in-process.ts";
import { REPO_ROOT, killAllServices, processTestDir, spawnService, withServices } from "../helpers/service/subprocess.ts";

afterAll(killAllServices);

interface Trickle {
  socket: Socket;
  /** What the server answered so far. */
  answer(): string;
  closed(): boolean;
  stop(): void;
}

/** A connection from `from` that sends `head`, then `step` (one byte of body) every `everyMs` until stopped or closed. */
function trickle(port: number, head: string, from = "127.0.0.1", everyMs = 2000, step = "a"): Promise<Trickle> {
  return new Promise((resolve) => {
    let answer = "";
    let closed = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const socket = connect({ port, host: "127.0.0.1", localAddress: from }, () => {
      socket.write(head);
      timer = setInterval(() => socket.writable && socket.write(step), everyMs);
      resolve(handle);
    });
    socket.on("data", (d: Buffer) => void (answer += d.toString()));
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
      clearInterval(timer);
    });
    const handle: Trickle = {
      socket,
      answer: () => answer,
      closed: () => closed,
      stop: () => {
        clearInterval(timer);
        socket.destroy();
      },
    };
  });
}

const slowSignIn = (declared: number) =>
  `POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n{"key":"`;

describe("the body deadline", () => {
  test("a body that does not arrive within 5 s (+10 s per MiB) gets 408 body_timeout and its connection is closed; a declared and a chunked one", async () => {
    const svc = await startTestService({ campaigns: [{ code: "c1" }] });
    try {
      const port = Number(new URL(svc.url).port);
      const declared = await trickle(port, slowSignIn(1000), "127.0.0.1", 1000);
      const chunked = await trickle(port, "POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        `Authorization: Bearer ${API_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n`, "127.0.0.1", 1000, "1\r\n \r\n");
      const started = Date.now();
      await eventually(() => declared.closed() && chunked.closed(), 25_000, "both connections closed by the server", 100);
      expect(Date.now() - started).toBeGreaterThanOrEqual(4000); // not before the 5 s (a generous bound either side)
      for (const t of [declared, chunked]) {
        expect(t.answer()).toStartWith("HTTP/1.1 408");
        expect(t.answer()).toContain('"code":"body_timeout"');
      }
      const metrics = await (await fetch(`${svc.url}/metrics`)).text();
      expect(metrics).toMatch(/^tgcpa_http_body_timeouts_total 2$/m);
      expect(metrics).toMatch(/^tgcpa_http_requests_in_progress 1$/m); // both let go: the one in progress is this /metrics
    } finally {
      await svc.stop();
    }
  }, 40_000);
});

describe("slow bodies beside keyed traffic", () => {
  const dir = processTestDir("slow-bodies");

  test("400 trickling connections from 40 addresses, 300 file descriptors: /health and keyed POST /api/events answer meanwhile", () => withServices("slow bodies", async () => {
    const config = testConfig(dir, {
      log: { level: "warn" },
      storage: { path: join(dir, "tgcpa.db") },
      rate_limits: { requests_in_progress_per_client: 4 },
      campaigns: [{ code: "sb" }],
    });
    const s = await spawnService({ dir, config, command: ["prlimit", "--nofile=300:300", "--", process.execPath, join(REPO_ROOT, "src/main.ts")] });
    const slow: Trickle[] = [];
    try {
      for (let a = 1; a <= 40; a++) {
        for (let i = 0; i < 10; i++) slow.push(await trickle(s.port, slowSignIn(60_000), `127.0.3.${a}`)); // within the 64 KiB a sign-in may declare
      }
      // Keyed traffic and /health for 6 s while the slow bodies trickle; each must answer, within a generous 5 s.
      const answers: { what: string; status: number }[] = [];
      const until = Date.now() + 6000;
      for (let n = 0; Date.now() < until; n++) {
        // A new connection each time (as a new client would come): it must be accepted beside the slow ones.
        const health = await fetch(`${s.url}/health`, { signal: AbortSignal.timeout(5000), headers: { connection: "close" } });
        answers.push({ what: "health", status: health.status });
        await health.arrayBuffer();
        const ev = await fetch(`${s.url}/api/events`, {
          method: "POST", signal: AbortSignal.timeout(5000),
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", connection: "close" },
          body: JSON.stringify({ campaign: "sb", subscriber: 1000 + n, status: "wait", click: `k${n}` }),
        });
        answers.push({ what: "event", status: ev.status });
        await ev.arrayBuffer();
        await Bun.sleep(200);
      }
      expect(answers.length).toBeGreaterThanOrEqual(10);
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      // Each address kept at most 4 in progress; the rest were refused at once and closed.
      const refused = slow.filter((t) => t.answer().startsWith("HTTP/1.1 429"));
      expect(refused.length).toBeGreaterThanOrEqual(400 - 40 * 4);
      await eventually(() => refused.every((t) => t.closed()), 5000, "the refused connections closed by the server");
      const metrics = await (await fetch(`${s.url}/metrics`, { headers: { connection: "close" } })).text();
      expect(Number(/^tgcpa_http_requests_in_progress (\d+)$/m.exec(metrics)?.[1])).toBeLessThanOrEqual(40 * 4 + 1);
      expect(Number(/^process_open_fds (\d+)$/m.exec(metrics)?.[1])).toBeLessThan(300); // the limit was never reached
    } finally {
      for (const t of slow) t.stop();
    }
    await eventually(async () => /^tgcpa_http_requests_in_progress 1$/m.test(await (await fetch(`${s.url}/metrics`)).text()), 10_000, "the slow requests let go");
    expect(await s.stop()).toBe(0);
  }), 60_000);
});
