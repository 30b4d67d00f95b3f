// The `click link` scenario (issue 21): clicks/s recorded and redirected by GET /c/{campaign} — a
// new click each request (utm_*, sub1, fbclid, a browser's user agent): one small insert through the
// intake, then a 302 to t.me with the token — against the minimal Elysia route answering the same
// 302 without a write (servers.ts elysia), under the same closed-loop load, in the same run.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { FakeBotApi } from "../helpers/fake-bot-api/index.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { CAMPAIGN, benchConfig, removeDir, serviceEnv, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { Receiver, startHelper } from "./helper-processes.ts";
import { cpuMeter } from "./machine.ts";
import { fmtInt, log, ratioRow, round, type ScenarioReport } from "./report.ts";
import { loadGenerator, type LoadResult } from "./loadgen.ts";

const TOKEN = "123456:BENCH-click-token";
const WARMUP_BASE = 700_000_000;
const MEASURE_BASE = 800_000_000;

interface ClickMeasure extends LoadResult {
  warmup: LoadResult;
  serverCpu: number | null;
  /** Clicks in the database afterwards (service only): every redirected click must be one. */
  stored?: number;
}

function measureCeiling(ctx: BenchContext): Promise<ClickMeasure> {
  return ctx.memo("click.ceiling", async () => {
    const gen = await loadGenerator();
    const dir = tempDir("click-ceiling");
    const server = await startHelper("servers.ts", ["elysia"]);
    try {
      const spec = { port: server.hello.port as number, clients: ctx.scale.clients, dir, click: { campaign: CAMPAIGN } };
      log(`click link ceiling: minimal Elysia GET /c/:campaign answering 302, ${gen.name}, ${ctx.scale.clients} clients, ${ctx.scale.intakeSeconds} s`);
      const warmup = await gen.run({ ...spec, seconds: ctx.scale.warmupSeconds, base: WARMUP_BASE });
      const cpu = cpuMeter(server.proc.pid);
      const r = await gen.run({ ...spec, seconds: ctx.scale.intakeSeconds, base: MEASURE_BASE });
      const serverCpu = cpu.stop();
      log(`  → ${fmtInt(r.rps)} req/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms`);
      return { ...r, warmup, serverCpu };
    } finally {
      await server.stop();
      removeDir(dir);
    }
  });
}

function measureClickLink(ctx: BenchContext): Promise<ClickMeasure> {
  return ctx.memo("click.service", async () => {
    const gen = await loadGenerator();
    const dir = tempDir("click");
    const receiver = await Receiver.start();
    const api = await FakeBotApi.start({ parseEntities: false });
    api.addBot({ token: TOKEN, username: "bench_bot" });
    let svc: ServiceProcess | undefined;
    try {
      const base = benchConfig(dir, { receiverPort: receiver.port, inFlight: ctx.scale.inFlight, noTemplates: true });
      svc = await spawnService({
        dir, healthTimeoutMs: 60_000, env: serviceEnv(),
        config: {
          ...base,
          rate_limits: { click_per_minute: 0 }, // one load generator on one address
          bots: { main: { token: TOKEN, mode: "polling", api_root: api.apiRoot } },
          campaigns: [{ code: CAMPAIGN, name: "bench", bot: "main", chat: -1001234567890 }],
        },
      });
      // The redirect needs the bot's username: wait for its getMe.
      for (let i = 0; ; i++) {
        const res = await fetch(`${svc.url}/api/campaigns`, { headers: { authorization: `Bearer ${API_KEY}` } });
        if (((await res.json()) as { items: { deep_link: string | null }[] }).items[0]?.deep_link) break;
        if (i > 200) throw new Error("the bench bot never answered getMe");
        await Bun.sleep(50);
      }
      const spec = { port: svc.port, clients: ctx.scale.clients, dir, click: { campaign: CAMPAIGN } };
      log(`click link: service GET /c/${CAMPAIGN} (record + 302), ${gen.name}, ${ctx.scale.clients} clients, ${ctx.scale.intakeSeconds} s`);
      const warmup = await gen.run({ ...spec, seconds: ctx.scale.warmupSeconds, base: WARMUP_BASE });
      const cpu = cpuMeter(svc.pid);
      const r = await gen.run({ ...spec, seconds: ctx.scale.intakeSeconds, base: MEASURE_BASE });
      const serverCpu = cpu.stop();
      await svc.stop(20_000);
      const db = new Database(join(dir, "tgcpa.db"));
      const stored = db.query<{ n: number }, []>("SELECT count(*) AS n FROM clicks").get()!.n;
      db.close();
      log(`  → ${fmtInt(r.rps)} clicks/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms, non-2xx/3xx ${r.non2xx}, errors ${r.errors}; ${fmtInt(stored)} clicks stored`);
      return { ...r, warmup, serverCpu, stored };
    } finally {
      await svc?.stop();
      await api.close();
      await receiver.stop();
      removeDir(dir);
    }
  });
}

export async function clickScenario(ctx: BenchContext): Promise<ScenarioReport> {
  const ceiling = await measureCeiling(ctx);
  const m = await measureClickLink(ctx);
  const sent = m.warmup.requests + m.requests - m.warmup.non2xx - m.non2xx;
  // Every redirect answered must be a stored click (a request cut off at the run's end may be stored unanswered).
  const valid = m.non2xx === 0 && m.errors === 0 && m.stored !== undefined && m.stored >= sent && m.stored <= sent + ctx.scale.clients * 2;
  return {
    rows: [ratioRow({
      scenario: "click link", figure: `GET /c/{campaign} clicks/s recorded and redirected (302), ${ctx.scale.clients} clients`, value: valid ? m.rps : null, unit: "clicks/s",
      baseline: ceiling.rps, baselineLabel: "minimal Elysia route answering the same 302, no write", target: "≥ 0.5× ceiling", minRatio: 0.5,
      note: `p50/p99 ${round(m.p50Ms, 2)}/${round(m.p99Ms, 2)} ms (ceiling ${round(ceiling.p50Ms, 2)}/${round(ceiling.p99Ms, 2)} ms); ${fmtInt(m.requests)} requests in ${round(m.seconds)} s, `
        + `${fmtInt(m.stored ?? 0)} clicks stored for ${fmtInt(sent)} redirects; service ${m.serverCpu} cores${valid ? "" : " — INVALID: non-2xx/3xx, errors or a redirect without its click"}`,
    })],
    details: { ceiling, service: m },
  };
}
