// Files the backup and restore commands write, with O_EXCL|O_NOFOLLOW semantics: a name that
// exists in any form (a file, a symbolic link, dangling or not) is never written through or
// replaced, and what is written is readable by its owner only (0600: it holds every lead).
import { closeSync, constants, fsyncSync, linkSync, lstatSync, openSync, unlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";

/** Whether a name exists in any form, a symbolic link included (existsSync follows links: a dangling one reads as absent). */
export function nameExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** Creates `<path>.partial-<random>` empty, 0600, failing rather than following or replacing anything; returns its name. */
export function createPartial(path: string): string {
  const partial = `${path}.partial-${randomBytes(6).toString("hex")}`;
  closeSync(openSync(partial, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600));
  return partial;
}

/**
 * Gives the finished `partial` its name `target` (a hard link: it fails with EEXIST when the name
 * exists in any form, so nothing there is replaced or followed), then drops the partial name.
 */
export function publish(partial: string, target: string): void {
  try {
    linkSync(partial, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${target} already exists (a file or a symbolic link); choose a new file`);
    throw err;
  }
  unlinkSync(partial);
}

export function syncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
