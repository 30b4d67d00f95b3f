import { Database } from "bun:sqlite";
import { chownSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { lockDatabase } from "../storage/sqlite/instance-lock.ts";
import { migrationJournal } from "../storage/sqlite/migrations.generated.ts";
import { createPartial, nameExists, publish, syncPath } from "./exclusive-files.ts";
import { appliedPrefix, migratedSchema, readSchema, schemaDifferences, type Schema } from "./backup-schema.ts";

/** A line of progress for the person at the terminal (the command line prints it). */
export type Progress = (line: string) => void;

/**
 * An online, consistent copy of the database (VACUUM INTO): safe while the service runs, since it
 * reads one snapshot; the copy is a plain SQLite file (no -wal), checked before it is reported.
 * It is written 0600 under a partial name and only then given its name, which must not exist in
 * any form: an existing file or a symbolic link (dangling or not) is refused, never written through.
 */
export function backupDatabase(source: string, target: string, progress: Progress = () => {}): { bytes: number; leads: number } {
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  if (resolve(source) === resolve(target)) throw new Error("the backup must be another file");
  if (nameExists(target)) throw new Error(`${target} already exists (a file or a symbolic link); choose a new file`);
  mkdirSync(dirname(resolve(target)), { recursive: true });
  progress(`copying ${source} to ${target} (one consistent snapshot; the service may keep running)`);
  const started = performance.now();
  const partial = createPartial(target);
  try {
    snapshot(source, partial, target);
    syncPath(partial);
    progress(`copy written in ${Math.round(performance.now() - started)} ms; checking its integrity`);
    const { leads } = checkCopy(partial);
    publish(partial, target);
    syncPath(dirname(resolve(target)));
    return { bytes: statSync(target).size, leads };
  } finally {
    rmSync(partial, { force: true });
  }
}

/**
 * Writes one consistent snapshot of `source` to `target` as a plain SQLite file (VACUUM INTO):
 * what SQLite sees, so commits still in the source's -wal are in it too.
 */
function snapshot(source: string, target: string, shown = target) {
  try {
    const db = new Database(source, { readonly: true });
    try {
      db.run("PRAGMA busy_timeout = 10000");
      db.query("VACUUM INTO ?").run(target);
    } finally {
      db.close();
    }
  } catch (err) {
    throw new Error(`cannot copy ${source} to ${shown}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Checks a backup before it is used: a SQLite file that passes integrity_check whose schema is
 * exactly tgcpa's as this binary's migrations build it (backup-schema.ts) — tables, columns,
 * indexes, and nothing tgcpa does not create (a trigger, a view, another table). A backup from an
 * older version is one whose migrations are a prefix of this version's: its schema must be what
 * that prefix builds, and the next start applies the rest. A newer one is refused (code that does
 * not know its schema would run it). Returns its lead count and how many migrations it lacks.
 */
export function checkCopy(path: string): { leads: number; pendingMigrations: number } {
  let copy: Database;
  try {
    copy = new Database(path, { readonly: true });
  } catch (err) {
    throw new Error(`cannot open ${path}: ${(err as Error).message}`);
  }
  try {
    let check: string;
    let schema: Schema;
    try {
      check = (copy.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check;
      schema = readSchema(copy);
    } catch (err) {
      throw new Error(`${path} is not a readable SQLite database: ${(err as Error).message}`);
    }
    if (check !== "ok") throw new Error(`${path} failed its integrity check: ${check}`);
    if (!schema.objects.has("table leads") || !schema.objects.has("table __drizzle_migrations")) {
      throw new Error(`${path} is a SQLite database but not a tgcpa one (no ${schema.objects.has("table leads") ? "migration journal" : "leads table"}); nothing was changed`);
    }
    const prefix = appliedPrefix(schema);
    if (prefix === null) throw new Error(`${path} has a migration history that is not this version's; nothing was changed`);
    if ("newer" in prefix) throw new Error(`${path} was made by a newer tgcpa (its schema has migrations this version does not know); restore it with that version`);
    const differences = schemaDifferences(schema, migratedSchema(prefix.count));
    if (differences.length) {
      throw new Error(`${path} is not a tgcpa database as this version's migrations build it: ${differences.join("; ")}. Nothing was changed`);
    }
    const leads = (copy.query("SELECT count(*) AS n FROM leads").get() as { n: number }).n;
    return { leads, pendingMigrations: migrationJournal.entries.length - prefix.count };
  } finally {
    copy.close();
  }
}

/**
 * Puts a backup in place of the database. Refused while a process holds the database (the
 * instance lock, held here too so the service cannot start halfway through). The backup is
 * checked (checkCopy), copied as SQLite reads it (a snapshot, not its bytes: a set left by a crash
 * keeps its last commits in its -wal) beside the database, synced and checked again. Only then is
 * the old database kept: its file and -wal/-shm get a second name, `<db>.before-restore-<time>`
 * (+ `-wal`, `-shm`; `-2`, `-3`, … when that name is taken, so two restores within a second keep
 * both), made as hard links that never replace anything — the old set is whole under that name
 * before anything is moved. Then its -wal/-shm leave the database's name (they would be replayed
 * into the new file) and the copy is renamed over it.
 */
export function restoreDatabase(database: string, backup: string, progress: Progress = () => {}, now = new Date()): { bytes: number; leads: number; movedAside: string | null } {
  if (!existsSync(backup)) throw new Error(`no backup at ${backup}`);
  if (resolve(backup) === resolve(database)) throw new Error("the backup is the database itself");
  progress(`checking ${backup}`);
  const { leads, pendingMigrations } = checkCopy(backup);
  progress(`${backup}: integrity ok, schema tgcpa's, ${leads} leads`);
  if (pendingMigrations) progress(`${backup} was made by an older version: the next start applies the ${pendingMigrations} migration(s) it lacks`);
  const lock = lockDatabase(database); // throws DatabaseInUse while the service runs
  try {
    const staging = createPartial(database);
    try {
      snapshot(backup, staging, database);
      syncPath(staging);
      const copied = checkCopy(staging).leads;
      if (copied !== leads) throw new Error(`the copy of ${backup} holds ${copied} leads, the backup ${leads}; nothing was changed`);
      const aside = keepOldDatabase(database, now);
      if (aside) progress(`the old database is kept as ${basename(aside)} (with its -wal/-shm) in ${dirname(resolve(database))}`);
      for (const suffix of ["-wal", "-shm"]) rmSync(`${database}${suffix}`, { force: true }); // kept under the aside name
      renameSync(staging, database);
      syncPath(dirname(resolve(database))); // the rename itself must survive a power cut
      giveToFolderOwner(database, `${database}.lock`);
      return { bytes: statSync(database).size, leads, movedAside: aside };
    } finally {
      rmSync(staging, { force: true });
    }
  } finally {
    lock.release();
  }
}

/** Gives the database's set a second, unused name (hard links); returns it, or null when there is no database. */
function keepOldDatabase(database: string, now: Date): string | null {
  if (!nameExists(database)) return null;
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z"); // 20260501T120000Z
  const base = `${database}.before-restore-${stamp}`;
  for (let n = 1; ; n++) {
    const aside = n === 1 ? base : `${base}-${n}`;
    if (["", "-wal", "-shm"].some((suffix) => nameExists(`${aside}${suffix}`))) continue;
    try {
      linkSync(database, aside); // EEXIST: taken meanwhile, try the next name
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    for (const suffix of ["-wal", "-shm"]) if (nameExists(`${database}${suffix}`)) linkSync(`${database}${suffix}`, `${aside}${suffix}`);
    syncPath(dirname(resolve(database)));
    return aside;
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
