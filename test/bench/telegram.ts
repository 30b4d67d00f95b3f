// The Telegram scenarios of issue #11: a burst of Starts against a Bot API that enforces Telegram's
// limits (the fake of test/helpers, in this bench process: 30 sends per rolling second per bot,
// 1/s per chat, a 3 s flood wait for the whole bot), and the webhook intake under closed-loop load.
import { FakeBotApi, tg } from "../helpers/fake-bot-api/index.ts";
import { freePort } from "../helpers/net.ts";
import { spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { CAMPAIGN, benchConfig, removeDir, serviceEnv, tempDir } from "./bench-service.ts";
import type { BenchContext } from "./context.ts";
import { Receiver } from "./helper-processes.ts";
import { cpuMeter } from "./machine.ts";
import { fmtInt, limitRow, log, ratioRow, round, type Row, type ScenarioReport } from "./report.ts";
import { loadGenerator, type LoadResult } from "./loadgen.ts";
import { measureBare, measureIntake } from "./measure.ts";

const TOKEN = "123456:BENCH-telegram-token";
const SECRET = "bench-secret";
/** Telegram's rate for one bot (the fake enforces it): the ideal burst lasts N / 30 s. */
const TELEGRAM_PER_SECOND = 30;
/**
 * The bot's pace in the burst: just under Telegram's 30/s (the default, 25/s, leaves more margin
 * and finishes at 1.2× the ideal by construction). Sends are spread evenly, so 28/s keeps every
 * rolling second of arrivals below 30 even with a few ms of jitter.
 */
const BURST_PER_SECOND = 28;
/** Telegram's own default number of webhook connections. */
const WEBHOOK_CONNECTIONS = 40;

const WARMUP_BASE = 500_000_000;
const MEASURE_BASE = 600_000_000;

/** The bench config plus one bot and a campaign that greets every Start. */
function telegramConfig(dir: string, o: { port: number; apiRoot: string; receiverPort: number; mode: "polling" | "webhook"; perSecond?: number; noTemplates?: boolean; inFlight: number }) {
  const base = benchConfig(dir, { receiverPort: o.receiverPort, inFlight: o.inFlight, noTemplates: o.noTemplates });
  return {
    ...base,
    server: { host: "127.0.0.1", port: o.port, public_url: `http://127.0.0.1:${o.port}` },
    rate_limits: { webhook_per_minute: 0 },
    bots: { main: { token: TOKEN, mode: o.mode, api_root: o.apiRoot, secret: SECRET, ...(o.perSecond ? { max_per_second: o.perSecond } : {}) } },
    campaigns: [{ code: CAMPAIGN, name: "bench", bot: "main", chat: -1001234567890, welcome: { text: "Welcome!" } }],
  };
}

async function startTelegramService(dir: string, config: Record<string, unknown>, port: number): Promise<ServiceProcess> {
  const svc = await spawnService({ dir, config, port, healthTimeoutMs: 60_000, env: serviceEnv() });
  if (svc.port !== port) throw new Error(`port ${port} was taken; the webhook URL would be wrong`);
  return svc;
}

export interface BurstMeasure {
  mode: "polling" | "webhook";
  starts: number;
  /** Burst pushed → last welcome received by the Bot API, seconds. */
  seconds: number;
  idealSeconds: number;
  welcomes: number;
  sends: number;
  refused: number;
  /** Wait postbacks that reached the tracker. */
  postbacks: number;
  /** Burst pushed → last wait postback at the tracker, seconds. */
  postbacksSeconds: number;
}

function measureBurst(ctx: BenchContext, mode: "polling" | "webhook"): Promise<BurstMeasure> {
  return ctx.memo(`telegram.burst.${mode}`, async () => {
    const n = ctx.scale.name === "small" ? 600 : 3000;
    const api = await FakeBotApi.start({ limits: true, parseEntities: false });
    api.addBot({ token: TOKEN, username: "tgcpa_bench_bot" });
    const receiver = await Receiver.start();
    const dir = tempDir(`burst-${mode}`);
    let svc: ServiceProcess | undefined;
    try {
      const port = await freePort();
      svc = await startTelegramService(dir, telegramConfig(dir, { port, apiRoot: api.apiRoot, receiverPort: receiver.port, mode, perSecond: BURST_PER_SECOND, inFlight: ctx.scale.inFlight }), port);
      if (mode === "webhook") while (!api.webhook(TOKEN)) await Bun.sleep(20);
      else while (api.callsTo("getUpdates").length === 0) await Bun.sleep(20);
      log(`telegram burst (${mode}): ${fmtInt(n)} Starts at once, bot paced at ${BURST_PER_SECOND}/s, Bot API enforcing ${TELEGRAM_PER_SECOND}/s`);
      const updates = Array.from({ length: n }, (_, i) => tg.startMessage(tg.user(1_000_000 + i), `${CAMPAIGN}-b${i}`));
      const t0 = Date.now();
      if (mode === "polling") for (const u of updates) api.enqueue(TOKEN, u);
      else {
        let next = 0;
        const pushOne = async (): Promise<void> => {
          const u = updates[next++];
          if (!u) return;
          const res = await api.push(TOKEN, u, { timeoutMs: 60_000 });
          if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${res.body.slice(0, 200)}`);
          return pushOne();
        };
        await Promise.all(Array.from({ length: WEBHOOK_CONNECTIONS }, pushOne));
      }
      const welcomes = () => api.callsTo("sendMessage").filter((c) => c.status === 200);
      const limit = Date.now() + (n / TELEGRAM_PER_SECOND) * 3000 + 60_000;
      while (welcomes().length < n && Date.now() < limit) await Bun.sleep(100);
      const sent = welcomes();
      const last = sent.reduce((m, c) => Math.max(m, c.at), 0);
      const rec = await receiver.waitFor(n, 30_000);
      const stats = await receiver.stats();
      const m: BurstMeasure = {
        mode, starts: n, seconds: (last - t0) / 1000, idealSeconds: n / TELEGRAM_PER_SECOND, welcomes: sent.length,
        sends: api.callsTo("sendMessage").length, refused: api.limits!.refusedTotal, postbacks: rec.count,
        postbacksSeconds: (stats.last - stats.first) / 1000,
      };
      log(`  → last welcome after ${round(m.seconds)} s (ideal ${round(m.idealSeconds)} s), ${m.welcomes}/${n} welcomes, ${m.refused} × 429, ${m.postbacks}/${n} wait postbacks`);
      return m;
    } finally {
      await svc?.stop();
      await receiver.stop();
      await api.close();
      removeDir(dir);
    }
  });
}

export interface WebhookMeasure extends LoadResult {
  warmup: LoadResult;
  serverCpu: number | null;
  templates: boolean;
}

/** Closed-loop POST /telegram/{bot}: every request a Start of a new subscriber (lead, welcome row, and the wait postback when `templates`). */
function measureWebhookIntake(ctx: BenchContext, templates: boolean): Promise<WebhookMeasure> {
  return ctx.memo(`telegram.webhook.${templates ? "templates" : "write-path"}`, async () => {
    const gen = await loadGenerator();
    const api = await FakeBotApi.start({ parseEntities: false });
    api.addBot({ token: TOKEN, username: "tgcpa_bench_bot" });
    const receiver = await Receiver.start();
    const dir = tempDir("webhook");
    let svc: ServiceProcess | undefined;
    try {
      const port = await freePort();
      svc = await startTelegramService(dir, telegramConfig(dir, { port, apiRoot: api.apiRoot, receiverPort: receiver.port, mode: "webhook", noTemplates: !templates, inFlight: ctx.scale.inFlight }), port);
      while (!api.webhook(TOKEN)) await Bun.sleep(20);
      const spec = { port, clients: ctx.scale.clients, dir, webhook: { bot: "main", secret: SECRET } };
      log(`webhook intake (${templates ? "with the wait postback, delivered meanwhile" : "write path: lead + welcome row"}), ${gen.name}, ${ctx.scale.clients} clients, ${ctx.scale.intakeSeconds} s`);
      const warmup = await gen.run({ ...spec, seconds: ctx.scale.warmupSeconds, base: WARMUP_BASE });
      const cpu = cpuMeter(svc.pid);
      const r = await gen.run({ ...spec, seconds: ctx.scale.intakeSeconds, base: MEASURE_BASE });
      const serverCpu = cpu.stop();
      log(`  → ${fmtInt(r.rps)} updates/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}; service ${serverCpu} cores`);
      return { ...r, warmup, serverCpu, templates };
    } finally {
      await svc?.stop();
      await receiver.stop();
      await api.close();
      removeDir(dir);
    }
  });
}

function burstRows(m: BurstMeasure): Row[] {
  const complete = m.welcomes === m.starts && m.postbacks >= m.starts;
  const ratio = m.seconds / m.idealSeconds;
  const per1000 = m.sends ? (m.refused / m.sends) * 1000 : null;
  return [
    {
      scenario: `telegram burst (${m.mode})`, figure: `${fmtInt(m.starts)} Starts at once: time to the last welcome`, value: m.seconds, unit: "s",
      baseline: m.idealSeconds, baselineLabel: `ideal at Telegram's ${TELEGRAM_PER_SECOND}/s`, ratio, target: "≤ 1.15× ideal",
      verdict: complete && ratio <= 1.15 ? "PASS" : "FAIL",
      note: `bot max_per_second ${BURST_PER_SECOND}; ${m.welcomes}/${m.starts} welcomes, ${m.postbacks}/${m.starts} wait postbacks at the tracker (all within ${round(m.postbacksSeconds, 1)} s of the first)${complete ? "" : " — INCOMPLETE"}`,
    },
    limitRow({
      scenario: `telegram burst (${m.mode})`, figure: "429 answers per 1,000 sends", value: per1000, unit: "", target: "≤ 1", max: 1,
      note: `${m.refused} × 429 in ${fmtInt(m.sends)} sendMessage calls`,
    }),
  ];
}

export async function telegramScenario(ctx: BenchContext): Promise<ScenarioReport> {
  const polling = await measureBurst(ctx, "polling");
  const webhook = await measureBurst(ctx, "webhook");
  const events = await measureIntake(ctx, { synchronous: "FULL", existingLeads: 0, noTemplates: true });
  const hook = await measureWebhookIntake(ctx, false);
  const hookFull = await measureWebhookIntake(ctx, true);
  const eventsFull = await measureIntake(ctx, { synchronous: "FULL", existingLeads: 0 });
  const ceiling = await measureBare(ctx, "elysia");
  const ok = (r: LoadResult) => r.non2xx === 0 && r.errors === 0;
  return {
    rows: [
      ...burstRows(polling),
      ...burstRows(webhook),
      ratioRow({
        scenario: "webhook intake", figure: `POST /telegram/{bot} updates/s, ${ctx.scale.clients} clients (a Start: lead + welcome row)`, value: ok(hook) ? hook.rps : null, unit: "upd/s",
        baseline: events.rps, baselineLabel: "POST /api/events, write path only (same run)", target: "≥ 0.9× baseline", minRatio: 0.9,
        note: `p50/p99 ${round(hook.p50Ms, 2)}/${round(hook.p99Ms, 2)} ms (events: ${round(events.p50Ms, 2)}/${round(events.p99Ms, 2)} ms); ${fmtInt(hook.requests)} requests, ${hook.non2xx} non-2xx, ${hook.errors} errors`,
      }),
      ratioRow({
        scenario: "webhook intake", figure: "the same updates/s against the stack's ceiling", value: ok(hook) ? hook.rps : null, unit: "upd/s",
        baseline: ceiling.rps, baselineLabel: "minimal Elysia route, no write (same run)", target: "≥ 0.5× ceiling", minRatio: 0.5,
      }),
      ratioRow({
        scenario: "webhook intake [extra: with the wait postback]", figure: "updates/s, lead + welcome row + wait postback row, delivered meanwhile", value: ok(hookFull) ? hookFull.rps : null, unit: "upd/s",
        baseline: eventsFull.rps, baselineLabel: "POST /api/events with its postback (same run)", target: "(none)", minRatio: null, extra: true,
        note: `p50/p99 ${round(hookFull.p50Ms, 2)}/${round(hookFull.p99Ms, 2)} ms; ${fmtInt(hookFull.requests)} requests, ${hookFull.non2xx} non-2xx`,
      }),
    ],
    details: { polling, webhook, hook, hookFull },
  };
}
