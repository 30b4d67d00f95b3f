// `tgcpa copy-to-postgres --to URL`: the SQLite database of the config (storage.path) into an empty
// PostgreSQL database, which is migrated first. The SQLite file is locked as the service locks it,
// so the copy is refused while the service runs (its writes would be missed).
import { existsSync } from "node:fs";
import type { Config } from "../../config/model.ts";
import { openDatabase, StorageError } from "../sqlite/client.ts";
import { lockDatabase } from "../sqlite/instance-lock.ts";
import { openPostgres } from "./connect.ts";
import { copySqliteToPostgres, type TableCount } from "./copy-from-sqlite.ts";
import { migratePostgres } from "./migrate.ts";

/** A line of progress for the person at the terminal. */
export type Say = (line: string) => void;

export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\/./.test(url);

export async function copyToPostgres(config: Config, url: string, say: Say): Promise<TableCount[]> {
  if (!isPostgresUrl(url)) throw new StorageError("--to must be a postgres:// or postgresql:// URL (postgres://USER:PASSWORD@HOST:5432/DATABASE)");
  const path = config.storage.path;
  if (path === ":memory:" || !existsSync(path)) throw new StorageError(`no SQLite database at ${path} (storage.path) to copy`);
  const lock = lockDatabase(path); // DatabaseInUse while the service runs on it
  try {
    const sqlite = openDatabase({ path, synchronous: config.storage.synchronous }); // brought to this build's schema first
    try {
      const pool = await openPostgres({ url, pool_size: 2, application_name: "tgcpa copy-to-postgres" });
      try {
        const { applied } = await migratePostgres(pool.sql);
        if (applied.length) say(`${pool.shown}: ${applied.length} migration(s) applied`);
        say(`copying ${path} into ${pool.shown} (one transaction: all or nothing)`);
        const started = performance.now();
        const counts = await copySqliteToPostgres(sqlite.$client, pool.sql, {
          onTable: (c) => say(`  ${c.table.padEnd(20)} SQLite ${String(c.source).padStart(9)}   PostgreSQL ${String(c.target).padStart(9)}`),
        });
        const rows = counts.reduce((sum, c) => sum + c.target, 0);
        say(`copied ${rows} rows in ${counts.length} tables in ${Math.round(performance.now() - started)} ms; every count is equal`);
        return counts;
      } finally {
        await pool.close();
      }
    } finally {
      sqlite.$client.close();
    }
  } finally {
    lock.release();
  }
}
