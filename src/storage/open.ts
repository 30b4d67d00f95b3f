// Opens the configured engine behind the storage port: SQLite (one file, one process: its instance
// lock and its group commit) or PostgreSQL (a pool several instances share).
import type { Config } from "../config/model.ts";
import type { Logger } from "../lib/logger.ts";
import type { Storage } from "./port.ts";
import { openPostgresStorage } from "./postgres/store.ts";
import { openSqliteStorage } from "./sqlite/store.ts";

export interface OpenStorageOptions {
  log: Logger;
  now: () => number;
  /** The disk refused to sync committed writes (SQLite): the process must not go on. */
  onSyncFailure: (err: unknown) => void;
  /** This instance's id, shown in pg_stat_activity (PostgreSQL). */
  instanceId: string;
}

/**
 * SQLite throws DatabaseInUse while another process has the file and StorageError when it is not
 * tgcpa's; PostgreSQL throws StorageError naming the server (password hidden) when it cannot connect.
 * Both migrate before they answer.
 */
export async function openStorage(storage: Config["storage"], opts: OpenStorageOptions): Promise<Storage> {
  if (storage.driver === "postgres") {
    return openPostgresStorage({
      url: storage.url!, pool_size: storage.pool_size, log: opts.log, now: opts.now,
      application_name: `tgcpa ${opts.instanceId}`.slice(0, 63), // PostgreSQL keeps 63 bytes of it
    });
  }
  return openSqliteStorage({ ...storage, log: opts.log, now: opts.now, onSyncFailure: opts.onSyncFailure });
}
