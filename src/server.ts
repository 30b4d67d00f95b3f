import { syncCampaigns } from "./campaigns/registry.ts";
import { configHash, newInstanceId, SoloCluster, type Cluster } from "./cluster/cluster.ts";
import { PgCluster } from "./cluster/pg-cluster.ts";
import { ALERTS_LEASE } from "./cluster/rules.ts";
import { ConfigError, loadConfigFile } from "./config/load.ts";
import type { Config } from "./config/model.ts";
import type { Runtime } from "./config/runtime.ts";
import { Dispatcher } from "./delivery/dispatcher.ts";
import { buildApp, type AppDeps } from "./app.ts";
import { createHttpChannel } from "./delivery/http-channel.ts";
import { adBatching } from "./adplatforms/batch.ts";
import { reasonClass } from "./domain/verdict.ts";
import { MAX_BODY_BYTES } from "./http/body.ts";
import { errorBody } from "./http/errors.ts";
import { createIntake } from "./intake/intake.ts";
import { systemClock, type Clock } from "./lib/clock.ts";
import { createLogger, describedError, type Logger } from "./lib/logger.ts";
import { EMBEDDED_COMMIT, VERSION } from "./lib/version.ts";
import { Metrics } from "./lib/metrics.ts";
import { pruneExpired } from "./ops/retention.ts";
import { openStorage } from "./storage/open.ts";
import type { PostgresStorage } from "./storage/postgres/store.ts";
import { AlertMonitor } from "./alerts/monitor.ts";
import { TelegramBots } from "./telegram/bots.ts";
import { TelegramPacing } from "./telegram/pacing.ts";
import { createTelegramChannel } from "./telegram/channel.ts";

export interface ServiceOptions {
  configPath: string;
  env?: Record<string, string | undefined>;
  clock?: Clock;
  logger?: Logger;
  /** Overrides server.port (tests pass 0 for a free port). */
  port?: number;
  /** Random source for retry jitter. */
  random?: () => number;
  /**
   * The disk refused to sync committed writes: they may be lost at the next power cut, so the
   * process must not go on (main.ts exits; the next start recovers from what the disk has).
   * Writes are refused from then on either way.
   */
  onFatal?: (err: unknown) => void;
}

export interface Service {
  /** What the app was built from (tests reach the storage, the dispatcher and the log through it). */
  deps: AppDeps;
  app: ReturnType<typeof buildApp>;
  server: NonNullable<ReturnType<typeof buildApp>["server"]>;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 3_600_000;

/**
 * Opens the database, migrates, mirrors campaigns, builds the app, starts the dispatcher and
 * listens. stop() undoes it in reverse order, letting in-flight postbacks finish.
 */
export async function startService(opts: ServiceOptions): Promise<Service> {
  const env = opts.env ?? process.env;
  const clock = opts.clock ?? systemClock;
  let config: Config = loadConfigFile(opts.configPath, env);
  const log = opts.logger ?? createLogger(config.log.level, undefined, config.log.format);
  const instanceId = newInstanceId();
  const storage = await openStorage(config.storage, {
    log: log.child({ component: "db" }), now: clock.now, instanceId,
    onSyncFailure: (err) => {
      log.fatal({ err, db: config.storage.path }, "the disk refused to sync the database; refusing writes");
      opts.onFatal?.(err);
    },
  }); // throws DatabaseInUse while another process has the file, StorageError when it is not tgcpa's or the server cannot be reached
  let runtime: Runtime;
  try {
    runtime = await syncCampaigns(storage, config, clock.now());
  } catch (err) {
    await storage.close();
    throw err;
  }
  const hash = () => configHash(config.source);
  // Several instances on one PostgreSQL database; on SQLite this process is the only one.
  const cluster: Cluster = storage.engine === "postgres"
    ? new PgCluster({
      storage: storage as PostgresStorage, clock, log: log.child({ component: "cluster" }), bots: () => [...Object.keys(runtime.config.bots), ALERTS_LEASE],
      configHash: hash, instanceId,
    })
    : new SoloCluster(clock, hash);
  // Retention, hourly: every batch is a write of its own, so a large backlog never holds the writer long.
  // A run asked for while one is under way runs once after it, at the time it then starts. One
  // instance on the database at a time runs it (the others skip that hour's run).
  let cancelPrune = () => {};
  let pruning: Promise<void> | null = null;
  let pruneAgain = false;
  let stopping = false;
  const prune = () => {
    if (!stopping) cancelPrune = clock.setTimer(prune, PRUNE_EVERY_MS);
    if (pruning) return void (pruneAgain = true);
    pruning = (async () => {
      do {
        pruneAgain = false;
        await storage.runAlone("retention", () => pruneExpired({ storage, log, now: clock.now(), retentionMs: runtime.config.delivery.retention_ms }))
          .catch((err) => log.error({ err }, "retention pruning failed"));
      } while (pruneAgain && !stopping);
    })().finally(() => (pruning = null));
  };
  prune();
  await pruning; // the first run before anything is served or sent

  const metrics = new Metrics(reasonClass);
  let telegram: TelegramBots | null = null;
  const telegramChannel = createTelegramChannel({
    read: storage.read, clock, runtime: () => runtime, api: (name) => telegram?.api(name), timeoutMs: () => runtime.config.delivery.timeout_ms,
    log: log.child({ component: "telegram" }),
  });
  const httpChannel = createHttpChannel({
    delivery: () => runtime.config.delivery, destinations: () => runtime.config.destinations, clock,
    alertWebhookUrl: () => runtime.config.alerts?.webhook?.url ?? null,
  });
  const dispatcher = new Dispatcher({
    storage, config: () => runtime.config, clock, log: log.child({ component: "dispatcher" }), metrics, random: opts.random,
    channels: { http: httpChannel, telegram: telegramChannel },
    pacing: new TelegramPacing(() => runtime.config.bots, () => runtime.config.delivery.per_host_in_flight),
    batching: adBatching(() => runtime.config.destinations),
    shared: cluster.shared ? cluster : undefined,
  });
  const intake = createIntake({ storage, metrics, wake: () => {
    dispatcher.wake();
    cluster.rowsCommitted();
  } });
  telegram = new TelegramBots({
    storage, intake, clock, log: log.child({ component: "telegram" }), runtime: () => runtime, owns: (bot) => cluster.ownsBot(bot), inOrder: storage.serialWrites,
  });
  const hosts = { states: (now: number) => dispatcher.hostStates(now) };
  const alerts = new AlertMonitor({
    storage, clock, log: log.child({ component: "alerts" }), runtime: () => runtime, bots: () => telegram!.states(), botApi: (name) => telegram!.api(name),
    hosts, httpChannel, wake: () => dispatcher.wake(), leader: () => cluster.ownsBot(ALERTS_LEASE),
  });

  /** Re-reads this instance's file; `told`: another instance reloaded (it is not told back). */
  const reload = async (told: boolean) => {
    const next = loadConfigFile(opts.configPath, env); // throws ConfigError: the running config stays
    if (next.storage.path !== config.storage.path || next.storage.url !== config.storage.url) log.warn("storage changed: takes effect after a restart");
    runtime = await syncCampaigns(storage, next, clock.now());
    config = next;
    dispatcher.reconfigure();
    alerts.reconfigure();
    telegram.restart().catch((err) => log.error({ err }, "restarting bots after reload failed"));
    log.info({ campaigns: runtime.campaigns.size, ...(told ? { told_by: "another instance" } : {}) }, "config reloaded");
    if (!told) cluster.reloaded();
    return runtime;
  };
  const deps: AppDeps = {
    storage, intake, clock, log, metrics, dispatcher, telegram, httpChannel, cluster,
    hosts, alerts,
    runtime: () => runtime,
    reloadConfig: () => reload(false),
  };

  try {
    // Its first heartbeat (on PostgreSQL) takes the bots no other instance holds, before they are
    // started, and lists this instance before it answers anyone.
    await cluster.start({
      botsChanged: () => {
        telegram.ownershipChanged().catch((err) => log.error({ err }, "starting or stopping bots after an ownership change failed"));
        dispatcher.wake();
      },
      wake: () => dispatcher.wake(),
      reload: () => void reload(true).catch((err) => log.error({ err: err instanceof ConfigError ? describedError("ConfigError", err.message) : err },
        "another instance reloaded its config; this one's file could not be reloaded, the running config is kept")),
      circuitsOpen: (open) => dispatcher.circuitsOpen(open),
    });
  } catch (err) {
    stopping = true;
    cancelPrune();
    await storage.close();
    throw err;
  }

  const app = buildApp(deps);
  // listen (not Bun.serve) gives handlers the server, for client IPs; Bun answers 413 to any body
  // over the limit. Elysia would share the port (SO_REUSEPORT) with any other process listening on
  // it; a taken port must fail the start instead.
  try {
    app.listen({
      hostname: config.server.host, port: opts.port ?? config.server.port, maxRequestBodySize: MAX_BODY_BYTES, reusePort: false,
      // Never the runtime's development error page (stack, paths, source lines), whatever NODE_ENV says;
      // anything the app's own error handler did not answer gets the envelope.
      development: false,
      error: () => errorBody(500, "internal", "internal error"),
    });
  } catch (err) {
    stopping = true;
    cancelPrune();
    await cluster.stop();
    await storage.close(); // nothing was started yet; a retry in this process must find the database free
    throw err;
  }
  const server = app.server!;
  dispatcher.start();
  await telegram.start(); // bots that fail are marked with their error; the service runs on
  alerts.start();

  const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
  const db = storage.engine === "postgres" ? (storage as PostgresStorage).pool.shown : config.storage.path;
  log.info({ version: VERSION, ...(EMBEDDED_COMMIT ? { commit: EMBEDDED_COMMIT } : {}), port: server.port, config: config.source, db, instance: cluster.instanceId }, "tgcpa listening");
  let stopped: Promise<void> | null = null;
  return {
    deps, app, server,
    url: `http://${host}:${server.port}`,
    stop: () => (stopped ??= (async () => {
      stopping = true;
      cancelPrune();
      await server.stop();
      await alerts.stop();
      await telegram.stop();
      try {
        await dispatcher.stop();
        await pruning;
        await cluster.stop(); // after the bots and the dispatcher: their leases go to another instance only now
      } finally {
        await storage.close();
        log.info("tgcpa stopped");
      }
    })()),
  };
}
