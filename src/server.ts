import { syncCampaigns, type Runtime } from "./campaigns/registry.ts";
import { loadConfigFile } from "./config/load.ts";
import type { Config } from "./config/model.ts";
import { openDatabase } from "./db/client.ts";
import { lockDatabase } from "./db/instance-lock.ts";
import { GroupCommit } from "./db/group-commit.ts";
import { Dispatcher } from "./delivery/dispatcher.ts";
import { OutboxRepository } from "./outbox/claims.ts";
import { buildApp, type AppDeps } from "./app.ts";
import { createHttpChannel } from "./delivery/http-channel.ts";
import { reasonClass } from "./domain/verdict.ts";
import { MAX_BODY_BYTES } from "./http/body.ts";
import { errorBody } from "./http/errors.ts";
import { createIntake } from "./intake/intake.ts";
import { systemClock, type Clock } from "./lib/clock.ts";
import { createLogger, type Logger } from "./lib/logger.ts";
import { EMBEDDED_COMMIT, VERSION } from "./lib/version.ts";
import { Metrics } from "./lib/metrics.ts";
import { pruneInboundLog } from "./inbound/repository.ts";
import { pruneJournal } from "./journal/repository.ts";
import { pruneIdempotencyKeys } from "./leads/repository.ts";
import { pruneDelivered } from "./outbox/repository.ts";
import { TelegramBots } from "./telegram/bots.ts";
import { pruneProcessedUpdates } from "./telegram/repository.ts";
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
  /** What the app was built from (tests reach the database, the dispatcher and the log through it). */
  deps: AppDeps;
  app: ReturnType<typeof buildApp>;
  server: NonNullable<ReturnType<typeof buildApp>["server"]>;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 3_600_000;
const IDEMPOTENCY_TTL_MS = 86_400_000;
/** Telegram drops undelivered updates after 24 h; keeping their ids a week is ample. */
const PROCESSED_UPDATES_TTL_MS = 7 * 86_400_000;

/**
 * Opens the database, migrates, mirrors campaigns, builds the app, starts the dispatcher and
 * listens. stop() undoes it in reverse order, letting in-flight postbacks finish.
 */
export async function startService(opts: ServiceOptions): Promise<Service> {
  const env = opts.env ?? process.env;
  const clock = opts.clock ?? systemClock;
  let config: Config = loadConfigFile(opts.configPath, env);
  const log = opts.logger ?? createLogger(config.log.level, undefined, config.log.format);
  const lock = lockDatabase(config.storage.path); // throws DatabaseInUse while another process has the file
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase({ ...config.storage, log: log.child({ component: "db" }) });
  } catch (err) {
    lock.release();
    throw err;
  }
  let runtime: Runtime = syncCampaigns(db, config, clock.now());
  const metrics = new Metrics(reasonClass);
  const outbox = new OutboxRepository(db);
  let telegram: TelegramBots | null = null;
  const telegramChannel = createTelegramChannel({
    db, clock, runtime: () => runtime, api: (name) => telegram?.api(name), timeoutMs: () => runtime.config.delivery.timeout_ms,
    log: log.child({ component: "telegram" }),
  });
  const commits = new GroupCommit(db, {
    synchronous: config.storage.synchronous,
    path: config.storage.path,
    now: clock.now,
    onSyncFailure: (err) => {
      log.fatal({ code: (err as { code?: string }).code, message: (err as Error).message, db: config.storage.path }, "the disk refused to sync the database; refusing writes");
      opts.onFatal?.(err);
    },
  });
  const httpChannel = createHttpChannel({ delivery: () => runtime.config.delivery, clock });
  const dispatcher = new Dispatcher({
    outbox, commits, config: () => runtime.config, clock, log: log.child({ component: "dispatcher" }), metrics, random: opts.random,
    channels: { http: httpChannel, telegram: telegramChannel },
    pacing: new TelegramPacing(() => runtime.config.bots, () => runtime.config.delivery.per_host_in_flight),
  });
  const intake = createIntake({ commits, metrics, wake: () => dispatcher.wake() });
  telegram = new TelegramBots({ db, intake, clock, log: log.child({ component: "telegram" }), runtime: () => runtime });

  const deps: AppDeps = {
    db, commits, intake, clock, log, metrics, dispatcher, telegram, httpChannel,
    runtime: () => runtime,
    reloadConfig() {
      const next = loadConfigFile(opts.configPath, env); // throws ConfigError: the running config stays
      if (next.storage.path !== config.storage.path) log.warn("storage.path changed: takes effect after a restart");
      config = next;
      runtime = syncCampaigns(db, next, clock.now());
      dispatcher.reconfigure();
      telegram.restart().catch((err) => log.error({ err }, "restarting bots after reload failed"));
      log.info({ campaigns: runtime.campaigns.size }, "config reloaded");
      return runtime;
    },
  };

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
    db.$client.close(); // nothing was started yet; a retry in this process must find the database free
    lock.release();
    throw err;
  }
  const server = app.server!;
  dispatcher.start();
  await telegram.start(); // bots that fail are marked with their error; the service runs on

  let cancelPrune = () => {};
  const prune = () => {
    const now = clock.now();
    try {
      const before = now - runtime.config.delivery.retention_ms;
      const n = pruneDelivered(db, before);
      pruneIdempotencyKeys(db, now - IDEMPOTENCY_TTL_MS);
      pruneProcessedUpdates(db, now - PROCESSED_UPDATES_TTL_MS);
      const inbound = pruneInboundLog(db, before);
      const journal = pruneJournal(db, before);
      if (n || inbound || journal) log.info({ pruned: n, inbound_log: inbound, journal }, "retention: delivered postbacks, inbound log and journal pruned");
    } catch (err) {
      log.error({ err }, "retention pruning failed");
    }
    cancelPrune = clock.setTimer(prune, PRUNE_EVERY_MS);
  };
  prune();

  const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
  log.info({ version: VERSION, ...(EMBEDDED_COMMIT ? { commit: EMBEDDED_COMMIT } : {}), port: server.port, config: config.source, db: config.storage.path }, "tgcpa listening");
  let stopped: Promise<void> | null = null;
  return {
    deps, app, server,
    url: `http://${host}:${server.port}`,
    stop: () => (stopped ??= (async () => {
      cancelPrune();
      await server.stop();
      await telegram.stop();
      try {
        await dispatcher.stop();
      } finally {
        await commits.drain();
        db.$client.close();
        lock.release();
        log.info("tgcpa stopped");
      }
    })()),
  };
}
