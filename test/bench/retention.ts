// The `retention` scenario: with BENCH_BIG_ROWS leads (1M; every second one joined, spread over
// 30 days; the cohort, revenue and cost tables filled as the service fills them: every join in
// its 15-minute bucket, two welcome variants, three quality bands, some leaves, payouts in two
// currencies, a cost per day) the Retention and Money pages are loaded as the dashboard loads
// them and timed from the first request to the last answer. The figure is the slowest page's
// median; target ≤ 300 ms, like the `dashboard` row.
import { Database } from "bun:sqlite";
import type { ConfigInput } from "../helpers/service/config.ts";
import { spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { CAMPAIGN, benchConfig, removeDir, serviceEnv, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { Receiver } from "./helper-processes.ts";
import { waitIdle } from "./machine.ts";
import { fmtInt, limitRow, log, round, summarize, type ScenarioReport } from "./report.ts";
import { seedDatabase } from "./seed.ts";

const DAY_MS = 86_400_000;
const LOADS = Number(process.env.BENCH_DASHBOARD_LOADS ?? 20);
const WARMUP_LOADS = 3;
const TZ = "Europe/Moscow";

/** The cohort, revenue and cost tables for the seeded joins, in SQL (the service writes them per event). */
function seedInsights(path: string) {
  const db = new Database(path);
  const campaignId = db.query<{ id: number }, [string]>("SELECT id FROM campaigns WHERE code = ?").get(CAMPAIGN)!.id;
  db.run("PRAGMA synchronous = OFF");
  db.transaction(() => {
    // Variant a/b by lead id, band by lead id; a tenth leave within a day, another tenth in week 2.
    db.run(`INSERT INTO retention_counts (campaign_id, bucket, variant, band, joined, out_1d, out_7d, out_14d, out_30d)
      SELECT campaign_id, (occurred_at / 900000) * 900000, CASE lead_id % 2 WHEN 0 THEN 'a' ELSE 'b' END,
        CASE lead_id % 3 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' ELSE 'high' END, count(*),
        sum(lead_id % 10 = 1), sum(lead_id % 10 = 1), sum(lead_id % 10 IN (1, 3)), sum(lead_id % 10 IN (1, 3))
      FROM lead_events WHERE status = 'approve' AND campaign_id = ? GROUP BY 1, 2, 3, 4`, [campaignId]);
    db.run(`INSERT INTO revenue_counts (campaign_id, bucket, currency, amount_micros, events)
      SELECT campaign_id, (occurred_at / 900000) * 900000, CASE lead_id % 5 WHEN 0 THEN 'EUR' ELSE 'USD' END, count(*) * 1500000, count(*)
      FROM lead_events WHERE status = 'approve' AND campaign_id = ? GROUP BY 1, 2, 3`, [campaignId]);
    const cost = db.prepare("INSERT INTO campaign_costs (campaign_id, day, currency, amount_micros, source, updated_at) VALUES (?, ?, 'USD', ?, 'api', ?)");
    for (let d = 0; d < 31; d++) cost.run(campaignId, new Date(Date.now() - d * DAY_MS).toISOString().slice(0, 10), 25_000_000_000, Date.now());
  })();
  const rows = db.query<{ n: number }, []>("SELECT count(*) AS n FROM retention_counts").get()!.n;
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return rows;
}

async function send(base: string, cookie: string, path: string): Promise<void> {
  const res = await fetch(`${base}${path}`, { headers: { cookie }, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} → ${res.status} ${text.slice(0, 200)}`);
}

export async function retentionScenario(ctx: BenchContext): Promise<ScenarioReport> {
  const rows = ctx.scale.bigRows;
  const dir = tempDir("retention");
  const receiver = await Receiver.start();
  let svc: ServiceProcess | undefined;
  try {
    const config: ConfigInput = { ...benchConfig(dir, { receiverPort: receiver.port, inFlight: ctx.scale.inFlight }), dashboard: { timezone: TZ } };
    const template = `http://127.0.0.1:${receiver.port}/pb?click={click}&status={status}`;
    config.postbacks = { wait: template, approve: template };
    log(`retention: seeding ${fmtInt(rows)} leads over 30 days (every second one joined) and their cohort, revenue and cost rows…`);
    const seeded = seedDatabase({ config, rows, state: "delivered", spreadMs: 30 * DAY_MS, joinEvery: 2 });
    const cohortRows = seedInsights(seeded.path);
    log(`  seeded in ${round(seeded.seconds)} s (${fmtInt(cohortRows)} cohort counter rows)`);
    svc = await spawnService({ dir, config, healthTimeoutMs: 180_000, env: serviceEnv() });
    const signIn = await fetch(`${svc.url}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: API_KEY }) });
    const cookie = signIn.headers.get("set-cookie")?.split(";")[0];
    if (!cookie) throw new Error(`sign-in failed: ${signIn.status}`);
    const fmt = (ms: number) => new Date(ms).toLocaleDateString("en-CA", { timeZone: TZ });
    const now = Date.now();
    const period = (days: number) => `tz=${encodeURIComponent(TZ)}&since=${fmt(now - (days - 1) * DAY_MS)}&until=${fmt(now + DAY_MS)}`;
    // As insights-pages.client.js loads them: the session, then the page's requests together.
    const pages = [
      { name: "retention, 30 days", paths: [`/api/retention?${period(30)}&by=none`, "/api/campaigns"] },
      { name: "retention by variant", paths: [`/api/retention?${period(30)}&campaign=${CAMPAIGN}&by=variant`, "/api/campaigns"] },
      { name: "retention by quality", paths: [`/api/retention?${period(30)}&campaign=${CAMPAIGN}&by=quality`, "/api/campaigns"] },
      { name: "retention, 90 days", paths: [`/api/retention?${period(90)}`, "/api/campaigns"] },
      { name: "money, 30 days", paths: [`/api/money?${period(30)}`] },
    ];
    ctx.busyBefore.retention = await waitIdle("retention");
    const results: { name: string; p50: number; p95: number }[] = [];
    for (const page of pages) {
      const load = async () => {
        const t0 = performance.now();
        await send(svc!.url, cookie, "/api/session");
        await Promise.all(page.paths.map((p) => send(svc!.url, cookie, p)));
        return performance.now() - t0;
      };
      for (let i = 0; i < WARMUP_LOADS; i++) await load();
      const times: number[] = [];
      for (let i = 0; i < LOADS; i++) times.push(await load());
      const s = summarize(times);
      const p95 = [...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)]!;
      results.push({ name: page.name, p50: round(s.p50, 1), p95: round(p95, 1) });
      log(`  ${page.name}: p50 ${round(s.p50, 1)} ms, p95 ${round(p95, 1)} ms`);
    }
    ctx.measurements.retention = { pages: results, rows, cohortRows, seedSeconds: seeded.seconds };
    const slowest = results.reduce((a, b) => (b.p50 > a.p50 ? b : a));
    return {
      rows: [limitRow({
        scenario: "retention", figure: `slowest retention or money page (median of ${LOADS} loads) with ${fmtInt(rows)} leads`, value: slowest.p50, unit: "ms",
        target: "≤ 300 ms", max: 300,
        note: `slowest: ${slowest.name}; every page p50/p95: ${results.map((r) => `${r.name} ${r.p50}/${r.p95}`).join(", ")} ms (${fmtInt(cohortRows)} cohort counter rows)`,
      })],
      details: {},
    };
  } finally {
    await svc?.stop();
    await receiver.stop();
    removeDir(dir);
  }
}
