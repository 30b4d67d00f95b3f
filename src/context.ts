import type { Runtime } from "./campaigns/registry.ts";
import type { Db } from "./db/client.ts";
import type { GroupCommit } from "./db/group-commit.ts";
import type { Dispatcher } from "./delivery/dispatcher.ts";
import type { Clock } from "./lib/clock.ts";
import type { Intake } from "./intake/intake.ts";
import type { Logger } from "./lib/logger.ts";
import type { Metrics } from "./ops/metrics.ts";
import type { TelegramBots } from "./telegram/bots.ts";

/** Everything a feature needs, passed in explicitly (no module singletons). */
export interface AppContext {
  db: Db;
  /** Shares one transaction among concurrent writes (see group-commit.ts). */
  commits: GroupCommit;
  /** The one way a write from outside reaches the database (see intake.ts). */
  intake: Intake;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  dispatcher: Dispatcher;
  telegram: TelegramBots;
  /** The running config and campaigns; replaced whole by a reload. */
  runtime(): Runtime;
  /** Re-reads the config file; keeps the running config when the new one is invalid. */
  reloadConfig(): Runtime;
}
