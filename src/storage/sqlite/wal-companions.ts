// The -wal and -shm beside a database file, checked before SQLite opens it: SQLite deletes a -wal
// whose database is missing (a fresh file is created in its place) and replays a -wal into
// whatever file now has the database's name. Either loses acknowledged commits without a word, so
// the start stops instead, naming the file and what to do; nothing is deleted.
import { closeSync, lstatSync, openSync, readSync } from "node:fs";

const exists = (path: string) => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Why a missing database must not be created fresh: its -wal or -shm is there; null when neither is. */
export function orphanedCompanion(path: string): string | null {
  const found = ["-wal", "-shm"].map((suffix) => `${path}${suffix}`).filter(exists);
  if (found.length === 0) return null;
  return `database ${path} is missing, but ${found.join(" and ")} ${found.length > 1 ? "are" : "is"} there: ${found[0]!.endsWith("-wal") ? "it holds the last commits" : "it belongs to"} ` +
    `a database that was moved or deleted (after a crash its latest commits are only in the -wal). Nothing was deleted; ` +
    `put the database file back beside ${found.length > 1 ? "them" : "it"}, or move ${found.join(" and ")} away to start with an empty database`;
}

/** The first bytes of a file (fewer when it is shorter). */
function head(path: string, bytes: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(bytes);
    return buf.subarray(0, readSync(fd, buf, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

/** WAL header magic numbers (big- or little-endian checksums); the page size follows at byte 8. */
const WAL_MAGIC = new Set([0x377f0682, 0x377f0683]);

/**
 * Why a -wal is not this database's: its pages are of another size than the database's (SQLite
 * would replay it into a file it does not belong to). null when it fits, or there is no -wal.
 * Times cannot tell: after a crash a database's own -wal is newer than it, and after a checkpoint older.
 */
export function foreignWal(path: string): string | null {
  const wal = `${path}-wal`;
  if (!exists(wal)) return null;
  const walHead = head(wal, 32);
  const dbHead = head(path, 100);
  if (walHead.length < 32 || !WAL_MAGIC.has(walHead.readUInt32BE(0)) || dbHead.length < 100) return null; // empty or not a WAL yet: SQLite resets it
  const walPage = walHead.readUInt32BE(8);
  const dbRaw = dbHead.readUInt16BE(16);
  const dbPage = dbRaw === 1 ? 65536 : dbRaw;
  if (walPage === dbPage) return null;
  return `database ${path}: ${wal} is not this database's (its pages are ${walPage} bytes, the database's ${dbPage}): the database file was replaced while ` +
    `the -wal of another one stayed. Nothing was deleted; put back the database file that -wal belongs to, or move ${wal} and ${path}-shm away`;
}
