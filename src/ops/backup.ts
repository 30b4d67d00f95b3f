import { Database } from "bun:sqlite";
import { chownSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { lastMigrationAt } from "../storage/sqlite/client.ts";
import { lockDatabase } from "../storage/sqlite/instance-lock.ts";
import { migrationJournal } from "../storage/sqlite/migrations.generated.ts";

/** A line of progress for the person at the terminal (the command line prints it). */
export type Progress = (line: string) => void;

/**
 * An online, consistent copy of the database (VACUUM INTO): safe while the service runs, since it
 * reads one snapshot; the copy is a plain SQLite file (no -wal), checked before it is reported.
 */
export function backupDatabase(source: string, target: string, progress: Progress = () => {}): { bytes: number; leads: number } {
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  if (existsSync(target)) throw new Error(`${target} already exists; choose a new file`);
  if (resolve(source) === resolve(target)) throw new Error("the backup must be another file");
  mkdirSync(dirname(resolve(target)), { recursive: true });
  progress(`copying ${source} to ${target} (one consistent snapshot; the service may keep running)`);
  const started = performance.now();
  snapshot(source, target);
  progress(`copy written in ${Math.round(performance.now() - started)} ms; checking its integrity`);
  const { leads } = checkCopy(target);
  return { bytes: statSync(target).size, leads };
}

/**
 * Writes one consistent snapshot of `source` to `target` as a plain SQLite file (VACUUM INTO):
 * what SQLite sees, so commits still in the source's -wal are in it too.
 */
function snapshot(source: string, target: string) {
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
}

/**
 * Checks a backup before it is used: a SQLite file that passes integrity_check, with tgcpa's
 * tables, made by this version or an older one (a newer schema would be run by code that does not
 * know it). Returns its lead count.
 */
export function checkCopy(path: string): { leads: number } {
  let copy: Database;
  try {
    copy = new Database(path, { readonly: true });
  } catch (err) {
    throw new Error(`cannot open ${path}: ${(err as Error).message}`);
  }
  try {
    let check: string;
    try {
      check = (copy.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
    } catch (err) {
      throw new Error(`${path} is not a readable SQLite database: ${(err as Error).message}`);
    }
    if (check !== "ok") throw new Error(`${path} failed its integrity check: ${check}`);
    const hasLeads = copy.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'leads'").get();
    if (!hasLeads) throw new Error(`${path} is a SQLite database but not a tgcpa one (no leads table)`);
    const newestKnown = Math.max(...migrationJournal.entries.map((e) => e.when));
    if (lastMigrationAt(copy) > newestKnown) throw new Error(`${path} was made by a newer tgcpa (its schema has migrations this version does not know); restore it with that version`);
    return { leads: (copy.query("SELECT count(*) AS n FROM leads").get() as { n: number }).n };
  } finally {
    copy.close();
  }
}

/**
 * Puts a backup in place of the database. Refused while a process holds the database (the
 * instance lock, held here too so the service cannot start halfway through). The old file and its
 * -wal/-shm are moved aside together as `<db>.before-restore-<time>` (+ `-wal`, `-shm`), so that set
 * still opens as the old database. The backup is copied as SQLite reads it (a snapshot, not its
 * bytes: a set left by a crash keeps its last commits in its -wal), beside the target, synced,
 * checked, then renamed over it, so a crash leaves either the old file or the whole new one.
 */
export function restoreDatabase(database: string, backup: string, progress: Progress = () => {}, now = new Date()): { bytes: number; leads: number; movedAside: string | null } {
  if (!existsSync(backup)) throw new Error(`no backup at ${backup}`);
  if (resolve(backup) === resolve(database)) throw new Error("the backup is the database itself");
  progress(`checking ${backup}`);
  const { leads } = checkCopy(backup);
  progress(`${backup}: integrity ok, ${leads} leads`);
  const lock = lockDatabase(database); // throws DatabaseInUse while the service runs
  try {
    const staging = `${database}.restoring`;
    rmSync(staging, { force: true }); // left by a restore that was cut short
    snapshot(backup, staging);
    syncFile(staging);
    const copied = checkCopy(staging).leads;
    if (copied !== leads) {
      rmSync(staging, { force: true });
      throw new Error(`the copy of ${backup} holds ${copied} leads, the backup ${leads}; nothing was changed`);
    }
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z"); // 20260501T120000Z
    const aside = `${database}.before-restore-${stamp}`;
    let movedAside: string | null = null;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (!existsSync(`${database}${suffix}`)) continue;
      renameSync(`${database}${suffix}`, `${aside}${suffix}`);
      movedAside ??= aside;
    }
    if (movedAside) progress(`the old database is kept as ${basename(movedAside)} (with its -wal/-shm) in ${dirname(resolve(database))}`);
    renameSync(staging, database);
    syncFile(dirname(resolve(database))); // the rename itself must survive a power cut
    giveToFolderOwner(database, `${database}.lock`);
    return { bytes: statSync(database).size, leads, movedAside };
  } finally {
    lock.release();
  }
}

function syncFile(path: string) {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Run as root (sudo tgcpa restore …), the files written here would belong to root and the service
 * user could not open them: they get the owner of the database's folder instead.
 */
function giveToFolderOwner(...paths: string[]) {
  if (process.getuid?.() !== 0) return;
  const owner = statSync(dirname(resolve(paths[0]!)));
  for (const path of paths) if (existsSync(path)) chownSync(path, owner.uid, owner.gid);
}
