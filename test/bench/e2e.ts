// End to end: a steady (open-loop) stream of POST /api/events at `rate` events/s into the real
// service, each creating one postback to a receiver; latency = tracker receipt − request sent.
// The commit happens between those two instants (SPEC §4: the 200 goes out after the commit), so
// this is an upper bound of commit → tracker receipt. The sender and the receiver live in this
// (otherwise idle) bench process so both instants come from one clock; the service is a
// separate process.
import { mkdirSync } from "node:fs";
import { spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { CAMPAIGN, benchConfig, removeDir, serviceEnv, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { sampleMemory } from "./machine.ts";
import { limitRow, log, round, summarize, type ScenarioReport } from "./report.ts";

const SUB_BASE = 300_000_000;
const MAX_OUTSTANDING = 5000;

export interface E2eMeasure {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  received: number;
  /** Events sent after the warm-up, with a receipt: the latency sample. */
  sample: number;
  sendToReceipt: ReturnType<typeof summarize>;
  /** Latency of the POST itself (sent → 200 received), for context. */
  intake: ReturnType<typeof summarize>;
  /** Answer → receipt: how long after the client saw the commit the tracker had it (can be < 0). */
  answerToReceipt: ReturnType<typeof summarize>;
  achievedRate: number;
  lateTicks: number;
  peakRssMb: number;
  /** The service's own histograms of the commit path over the whole run (warm-up included). */
  commitPath: Record<string, Record<string, number>>;
}

/**
 * The service's /metrics histograms of the commit path: time a batch held the event loop, and the
 * WAL sync. Cumulative counts per upper bound in ms, e.g. {"1": 950, "5": 990, "+Inf": 1000}.
 */
function parseCommitHistograms(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of text.matchAll(/^(tgcpa_commit_seconds|tgcpa_wal_sync_seconds)_bucket\{le="([^"]+)"\} (\d+)$/gm)) {
    (out[m[1]!] ??= {})[m[2] === "+Inf" ? "+Inf" : String(Number(m[2]) * 1000)] = Number(m[3]);
  }
  return out;
}

/** "p≤1 ms 95 %, ≤50 ms 99.9 %, max bucket ≤250 ms": where the tail of a histogram lies. */
function histogramSummary(h: Record<string, number> | undefined): string {
  if (!h) return "n/a";
  const total = h["+Inf"] ?? 0;
  if (!total) return "none";
  const bounds = Object.keys(h).filter((k) => k !== "+Inf").map(Number).sort((a, b) => a - b);
  const share = (b: number) => round(((h[String(b)] ?? 0) / total) * 100, 2);
  const over = (b: number) => total - (h[String(b)] ?? 0);
  const top = [...bounds].reverse().find((b, i, all) => over(all[i + 1] ?? -1) > 0 && over(b) === 0);
  return `${total} in all; ≤1 ms ${share(1)} %, ≤10 ms ${share(10)} %, ≤50 ms ${share(50)} %, over 50 ms ${over(50)}, over 250 ms ${over(250)}${top ? `, slowest ≤${top} ms` : ""}`;
}

export function measureE2e(ctx: BenchContext): Promise<E2eMeasure> {
  return ctx.memo("e2e.service.FULL", () => measureE2eOn(ctx));
}

/**
 * The end-to-end run, on the default SQLite file or on `storage` (PostgreSQL) with `instances`
 * services on it, the events sent to them in turn.
 */
export async function measureE2eOn(ctx: BenchContext, o: { storage?: Record<string, unknown>; instances?: number } = {}): Promise<E2eMeasure> {
  {
    const { e2eRate: rate, e2eSeconds: seconds, warmupSeconds } = ctx.scale;
    const total = rate * (seconds + warmupSeconds);
    const sentAt = new Float64Array(total).fill(NaN);
    const answeredAt = new Float64Array(total).fill(NaN);
    const receivedAt = new Float64Array(total).fill(NaN);
    let received = 0;
    const receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const now = performance.now();
        const url = req.url;
        const i = url.indexOf("click=e");
        if (i >= 0) {
          const n = Number.parseInt(url.slice(i + 7), 10);
          if (n >= 0 && n < total && Number.isNaN(receivedAt[n]!)) {
            receivedAt[n] = now;
            received++;
          }
        }
        return new Response("OK");
      },
    });
    const dir = tempDir("e2e");
    let svc: ServiceProcess | undefined;
    const others: ServiceProcess[] = [];
    try {
      const configOf = (d: string) => {
        const c = benchConfig(d, { receiverPort: receiver.port!, synchronous: "FULL", inFlight: ctx.scale.inFlight });
        return o.storage ? { ...c, storage: o.storage } : c;
      };
      svc = await spawnService({ dir, config: configOf(dir), healthTimeoutMs: 60_000, env: serviceEnv() });
      for (let i = 2; i <= (o.instances ?? 1); i++) {
        const d = `${dir}/i${i}`;
        mkdirSync(d, { recursive: true });
        others.push(await spawnService({ dir: d, config: configOf(d), healthTimeoutMs: 60_000, env: serviceEnv() }));
      }
      const mem = sampleMemory(svc.pid);
      const urls = [svc, ...others].map((s) => `${s.url}/api/events`);
      log(`e2e: ${rate} events/s for ${warmupSeconds} s warm-up + ${seconds} s, synchronous=FULL`);
      let sent = 0;
      let accepted = 0;
      let outstanding = 0;
      let lateTicks = 0;
      const post = (n: number) => {
        outstanding++;
        const subscriber = SUB_BASE + n;
        sentAt[n] = performance.now();
        void fetch(urls[n % urls.length]!, {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json", "idempotency-key": `e2e-${n}` },
          body: JSON.stringify({ campaign: CAMPAIGN, subscriber, status: "wait", click: `e${n}` }),
          signal: AbortSignal.timeout(10_000),
        }).then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) {
            answeredAt[n] = performance.now();
            accepted++;
          }
        }, () => {}).finally(() => outstanding--);
      };
      // Open loop: at each tick send whatever the schedule says is due, whatever the answers do.
      const start = performance.now();
      const endAt = start + (seconds + warmupSeconds) * 1000;
      while (sent < total && performance.now() < endAt + 5000) {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
        if (due - sent > rate / 100) lateTicks++; // more than 10 ms behind schedule
        while (sent < due && outstanding < MAX_OUTSTANDING) post(sent++);
        await Bun.sleep(1);
      }
      const sendSeconds = (performance.now() - start) / 1000;
      // Wait (bounded) for the answers and for the tracker to receive every accepted event.
      const settle = Date.now() + 30_000;
      while (Date.now() < settle && (outstanding > 0 || received < accepted)) await Bun.sleep(20);
      const memory = mem.stop();
      const commitPath = parseCommitHistograms(await (await fetch(`${svc.url}/metrics`)).text());
      const firstMeasured = rate * warmupSeconds;
      const lat: number[] = [];
      const intake: number[] = [];
      const after: number[] = [];
      for (let n = firstMeasured; n < sent; n++) {
        if (!Number.isNaN(answeredAt[n]!)) intake.push(answeredAt[n]! - sentAt[n]!);
        if (Number.isNaN(receivedAt[n]!)) continue;
        lat.push(receivedAt[n]! - sentAt[n]!);
        if (!Number.isNaN(answeredAt[n]!)) after.push(receivedAt[n]! - answeredAt[n]!);
      }
      const m: E2eMeasure = {
        rate, seconds, sent, accepted, received, sample: lat.length,
        sendToReceipt: summarize(lat), intake: summarize(intake), answerToReceipt: summarize(after),
        achievedRate: sent / sendSeconds, lateTicks, peakRssMb: memory.peakRssMb, commitPath,
      };
      log(`  → sent→receipt p50 ${round(m.sendToReceipt.p50, 2)} ms, p99 ${round(m.sendToReceipt.p99, 2)} ms; ${m.received}/${m.accepted} received; intake p99 ${round(m.intake.p99, 2)} ms`);
      return m;
    } finally {
      await svc?.stop();
      for (const s of others) await s.stop();
      receiver.stop(true);
      removeDir(dir);
    }
  }
}

export async function e2eScenario(ctx: BenchContext): Promise<ScenarioReport> {
  const m = await measureE2e(ctx);
  const ok = m.accepted === m.sent && m.received >= m.accepted;
  const note = `${m.sample} events after warm-up; ${m.accepted}/${m.sent} answered 200 (10 s client timeout), ${m.received} reached the tracker; sent at ${round(m.achievedRate)} ev/s${ok ? "" : " — the service did not keep up with the rate: FAIL"}`;
  const p99 = limitRow({ scenario: "end to end", figure: `commit→receipt p99 at ${m.rate} ev/s`, value: m.sendToReceipt.p99, unit: "ms", target: "p99 ≤ 50 ms", max: 50, note });
  if (!ok) p99.verdict = "FAIL";
  return {
    rows: [
      p99,
      {
        scenario: "end to end", figure: `commit→receipt p50 at ${m.rate} ev/s`, value: m.sendToReceipt.p50, unit: "ms", baseline: null, baselineLabel: "—", ratio: null, target: "—", verdict: "info",
        note: `intake POST p50/p99 ${round(m.intake.p50, 2)}/${round(m.intake.p99, 2)} ms; group-commit batch on the event loop: ${histogramSummary(m.commitPath.tgcpa_commit_seconds)}; WAL sync: ${histogramSummary(m.commitPath.tgcpa_wal_sync_seconds)}`,
      },
    ],
    details: { e2e: m },
  };
}
