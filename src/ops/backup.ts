import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * An online, consistent copy of the database (VACUUM INTO): safe while the service runs, since it
 * reads one snapshot; the copy is a plain SQLite file (no -wal), checked before it is reported.
 */
export function backupDatabase(source: string, target: string): { bytes: number; leads: number } {
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  if (existsSync(target)) throw new Error(`${target} already exists; choose a new file`);
  if (resolve(source) === resolve(target)) throw new Error("the backup must be another file");
  mkdirSync(dirname(resolve(target)), { recursive: true });
  try {
    const db = new Database(source, { readonly: true });
    try {
      db.run("PRAGMA busy_timeout = 10000");
      db.query("VACUUM INTO ?").run(target);
    } finally {
      db.close();
    }
  } catch (err) {
    throw new Error(`cannot copy ${source} to ${target}: ${(err as Error).message}`, { cause: err });
  }
  const copy = new Database(target, { readonly: true });
  try {
    const check = copy.query("PRAGMA integrity_check").get() as { integrity_check: string };
    if (check.integrity_check !== "ok") throw new Error(`the copy ${target} failed its integrity check: ${check.integrity_check}`);
    const leads = (copy.query("SELECT count(*) AS n FROM leads").get() as { n: number }).n;
    return { bytes: Bun.file(target).size, leads };
  } finally {
    copy.close();
  }
}
