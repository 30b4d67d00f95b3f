import { Database } from "bun:sqlite";
import { closeSync, mkdirSync, openSync, readSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { StorageError } from "./client.ts";

/** A process holds the database file; released by release() or, if the process dies, by the kernel. */
export interface InstanceLock {
  /** The lock file: `<database>.lock`. */
  path: string;
  release(): void;
}

export class DatabaseInUse extends Error {
  constructor(readonly database: string, readonly holderPid: number | null) {
    super(`database ${database} is in use by another tgcpa process${holderPid === null ? "" : ` (pid ${holderPid})`}: one process per database file; stop that one first (e.g. systemctl stop tgcpa)`);
    this.name = "DatabaseInUse";
  }
}

/**
 * Lock files this process holds. POSIX record locks belong to the process, not to a connection, and
 * closing *any* descriptor of a file drops all of them: so this process must never read the bytes
 * of a lock file it holds (SQLite itself knows this and shares one descriptor per file).
 */
const heldByThisProcess = new Set<string>();

/**
 * Takes `<database>.lock` for the life of the process: a one-page SQLite file written once in
 * EXCLUSIVE locking mode, so SQLite keeps its exclusive lock (a POSIX lock on the file) until the
 * connection closes — and the kernel drops it when the process dies, so a `kill -9` leaves no stale
 * lock. The holder's pid is written in the file's header (user_version, bytes 60-63), where a
 * refused process reads it without SQLite. `:memory:` databases need no lock.
 */
export function lockDatabase(database: string): InstanceLock {
  if (database === ":memory:") return { path: database, release() {} };
  const path = `${resolve(database)}.lock`;
  if (heldByThisProcess.has(path)) throw new DatabaseInUse(database, process.pid);
  let lock: Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    lock = new Database(path, { create: true });
  } catch (err) {
    throw new StorageError(`cannot open the lock file ${path}: ${(err as Error).message}; check that its folder exists and this user may write there`, { cause: err });
  }
  try {
    lock.run("PRAGMA busy_timeout = 0"); // refuse at once: the other process is not going to let go
    lock.run("PRAGMA locking_mode = EXCLUSIVE");
    // BEGIN EXCLUSIVE takes the lock even when user_version already holds this pid (pid 1 in a container).
    lock.transaction(() => lock.run(`PRAGMA user_version = ${process.pid}`)).exclusive();
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") throw new DatabaseInUse(database, holderPid(path));
    throw new StorageError(`cannot lock ${path}: ${(err as Error).message}`, { cause: err });
  }
  heldByThisProcess.add(path);
  return {
    path,
    release() {
      if (heldByThisProcess.delete(path)) lock.close();
    },
  };
}

/** The pid in the lock file's header, if that process is alive; the holder may still be writing it, so look twice. */
function holderPid(path: string): number | null {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) Bun.sleepSync(100);
    const pid = readHeaderPid(path);
    if (pid !== null && pid !== process.pid && isAlive(pid)) return pid;
  }
  return null;
}

function readHeaderPid(path: string): number | null {
  const header = Buffer.alloc(64);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    if (readSync(fd, header, 0, 64, 0) < 64) return null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const pid = header.readInt32BE(60);
  return pid > 0 ? pid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by another user
  }
}
