// The `dashboard` scenario: with BENCH_BIG_ROWS leads (1M; every second one joined, delivered
// postbacks, spread over 30 days, each from a click whose utm_source has 8 values and sub1 200) each dashboard page is loaded as the page loads it — the same
// /api requests, in the same order and concurrency, with the session cookie — and timed from the
// first request to the last answer. The figure is the slowest page's median; target ≤ 300 ms.
import type { ConfigInput } from "../helpers/service/config.ts";
import { spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { CAMPAIGN, benchConfig, removeDir, serviceEnv, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { Receiver } from "./helper-processes.ts";
import { waitIdle } from "./machine.ts";
import { fmtInt, limitRow, log, round, summarize, type ScenarioReport } from "./report.ts";
import { seedDatabase } from "./seed.ts";
import { dayStart } from "../../src/lib/time-zones.ts";

const DAY_MS = 86_400_000;
const LOADS = Number(process.env.BENCH_DASHBOARD_LOADS ?? 20);
const WARMUP_LOADS = 3;
const STATUSES = ["wait", "hold", "approve", "cancel", "trash"];

type Step = string[]; // requests sent together; the next step starts once they all answered
interface PageLoad { name: string; steps: Step[] }

/** The pages, as their requests (app.client.js: GET /api/session first, then the page's own). */
function pages(o: {
  today: string; weekAgo: string; monthAgo: string; tomorrow: string; threeWeeksAgo: string; threeWeeksAgoNext: string;
  sampleLead: number; samplePostback: number; host: string;
}): PageLoad[] {
  const tz = "Europe/Moscow";
  const stats = (since: string, extra = "") => `/api/stats?tz=${encodeURIComponent(tz)}&since=${since}&until=${o.tomorrow}${extra}`;
  return [
    { name: "overview, 7 days", steps: [["/api/session"], [stats(o.weekAgo)]] },
    { name: "overview, 30 days", steps: [["/api/session"], [stats(o.monthAgo)]] },
    // Grouped by a click parameter (click_stats): 8 utm_source values, and 200 sub1 values (ad sets).
    { name: "overview by utm_source, 30 days", steps: [["/api/session"], [stats(o.monthAgo, "&group=utm_source"), "/api/campaigns"]] },
    { name: "overview by sub1, 30 days", steps: [["/api/session"], [stats(o.monthAgo, "&group=sub1"), "/api/campaigns"]] },
    {
      name: "campaign",
      steps: [["/api/session"], ["/api/campaigns", "/api/bots", stats(o.weekAgo, `&campaign=${CAMPAIGN}`)], STATUSES.map((s) => `POST /api/campaigns/${CAMPAIGN}/test ${JSON.stringify({ status: s, click: "sample-click", subscriber: 123456789, username: "sample_user" })}`)],
    },
    { name: "postbacks", steps: [["/api/session"], ["/api/postbacks?limit=50", "/api/campaigns"]] },
    { name: "postbacks, filtered", steps: [["/api/session"], [`/api/postbacks?state=delivered&status=approve&campaign=${CAMPAIGN}&host=${encodeURIComponent(o.host)}&limit=50`, "/api/campaigns"]] },
    { name: "postbacks of a day 3 weeks ago", steps: [["/api/session"], [`/api/postbacks?since=${o.threeWeeksAgo}&until=${o.threeWeeksAgoNext}&limit=50`, "/api/campaigns"]] },
    { name: "postback attempt log", steps: [[`/api/postbacks/${o.samplePostback}`]] },
    { name: "leads search", steps: [["/api/session"], [`/api/leads?subscriber=${o.sampleLead}&limit=100`, `/api/leads?click=c${o.sampleLead}&limit=100`, "/api/leads?username=nobody_here&limit=100"]] },
    { name: "lead", steps: [["/api/session"], [`/api/leads/${o.sampleLead}`]] },
    { name: "journal", steps: [["/api/session"], ["/api/journal?limit=100"]] },
    { name: "bots and chats", steps: [["/api/session"], ["/api/bots", "/api/chats"]] },
  ];
}

async function send(base: string, cookie: string, request: string): Promise<void> {
  const post = request.startsWith("POST ");
  const [path, body] = post ? [request.slice(5, request.indexOf(" ", 5)), request.slice(request.indexOf(" ", 5) + 1)] : [request, undefined];
  const res = await fetch(`${base}${path}`, {
    method: post ? "POST" : "GET",
    headers: { cookie, ...(post ? { "content-type": "application/json", "x-requested-with": "tgcpa-bench" } : {}) },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${request} → ${res.status} ${text.slice(0, 200)}`);
}

async function load(base: string, cookie: string, page: PageLoad): Promise<number> {
  const t0 = performance.now();
  for (const step of page.steps) await Promise.all(step.map((r) => send(base, cookie, r)));
  return performance.now() - t0;
}

export async function dashboardScenario(ctx: BenchContext): Promise<ScenarioReport> {
  const rows = ctx.scale.bigRows;
  const dir = tempDir("dashboard");
  const receiver = await Receiver.start();
  let svc: ServiceProcess | undefined;
  try {
    const config: ConfigInput = {
      ...benchConfig(dir, { receiverPort: receiver.port, inFlight: ctx.scale.inFlight }),
      dashboard: { timezone: "Europe/Moscow" },
    };
    const template = `http://127.0.0.1:${receiver.port}/pb?click={click}&status={status}&lead={lead}&event={event}`;
    config.postbacks = { wait: template, approve: template };
    log(`dashboard: seeding ${fmtInt(rows)} leads over 30 days (every second one joined, postbacks delivered, each from a click with 8 utm_source and 200 sub1 values)…`);
    const seeded = seedDatabase({ config, rows, state: "delivered", spreadMs: 30 * DAY_MS, joinEvery: 2, clickGroups: { utm_source: 8, sub1: 200 } });
    log(`  seeded in ${round(seeded.seconds)} s`);
    svc = await spawnService({ dir, config, healthTimeoutMs: 180_000, env: serviceEnv() });
    const signIn = await fetch(`${svc.url}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: API_KEY }) });
    const cookie = signIn.headers.get("set-cookie")?.split(";")[0];
    if (!cookie) throw new Error(`sign-in failed: ${signIn.status}`);

    const fmt = (ms: number) => new Date(ms).toLocaleDateString("en-CA", { timeZone: "Europe/Moscow" });
    const now = Date.now();
    const sampleLead = Math.floor(rows / 2);
    const list = (await (await fetch(`${svc.url}/api/postbacks?limit=1`, { headers: { cookie } })).json()) as { items: { id: number; host: string }[] };
    const all = pages({
      today: fmt(now), weekAgo: fmt(now - 6 * DAY_MS), monthAgo: fmt(now - 29 * DAY_MS), tomorrow: fmt(now + DAY_MS),
      // As the page sends a day of its date filter: midnight to midnight in the zone, as instants.
      threeWeeksAgo: encodeURIComponent(new Date(dayStart("Europe/Moscow", fmt(now - 21 * DAY_MS))).toISOString()),
      threeWeeksAgoNext: encodeURIComponent(new Date(dayStart("Europe/Moscow", fmt(now - 20 * DAY_MS))).toISOString()),
      sampleLead, samplePostback: list.items[0]!.id, host: list.items[0]!.host,
    });
    ctx.busyBefore.dashboard = await waitIdle("dashboard"); // after the seeding, before the timing
    const results: { name: string; p50: number; p95: number; max: number }[] = [];
    for (const page of all) {
      for (let i = 0; i < WARMUP_LOADS; i++) await load(svc.url, cookie, page);
      const times: number[] = [];
      for (let i = 0; i < LOADS; i++) times.push(await load(svc.url, cookie, page));
      const s = summarize(times);
      const p95 = [...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)]!;
      results.push({ name: page.name, p50: round(s.p50, 1), p95: round(p95, 1), max: round(s.max, 1) });
      log(`  ${page.name}: p50 ${round(s.p50, 1)} ms, p95 ${round(p95, 1)} ms`);
    }
    ctx.measurements.dashboard = { pages: results, rows, seedSeconds: seeded.seconds };
    const slowest = results.reduce((a, b) => (b.p50 > a.p50 ? b : a));
    return {
      rows: [limitRow({
        scenario: "dashboard", figure: `slowest page (median of ${LOADS} loads) with ${fmtInt(rows)} leads`, value: slowest.p50, unit: "ms",
        target: "≤ 300 ms", max: 300,
        note: `slowest: ${slowest.name}; every page p50/p95: ${results.map((r) => `${r.name} ${r.p50}/${r.p95}`).join(", ")} ms (its /api requests with the session cookie, as the page sends them; static files not counted)`,
      })],
      details: {},
    };
  } finally {
    await svc?.stop();
    await receiver.stop();
    removeDir(dir);
  }
}
