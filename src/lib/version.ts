import { join } from "node:path";
import pkg from "../../package.json";

/** Set by `bun build --define` (scripts/build.ts); absent when running from source. */
declare const TGCPA_BUILD_COMMIT: string | undefined;

export const VERSION: string = pkg.version;

/** The commit embedded by the build, or null when running from source. */
export const EMBEDDED_COMMIT: string | null = typeof TGCPA_BUILD_COMMIT === "string" && TGCPA_BUILD_COMMIT ? TGCPA_BUILD_COMMIT : null;

/**
 * The commit this program was built from: embedded by the build; from a source checkout, asked of
 * git (with `-dirty` when tracked files differ from it); else "unknown" (a binary built by hand
 * with a plain `bun build --compile`, or no git).
 */
export function buildCommit(): string {
  return EMBEDDED_COMMIT ?? gitCommit(join(import.meta.dir, "../..")) ?? "unknown";
}

/** `abc123def456` or `abc123def456-dirty`; null outside a git checkout or without git. */
export function gitCommit(repo: string): string | null {
  const git = (...args: string[]) => {
    try {
      const run = Bun.spawnSync(["git", "-C", repo, ...args], { stdout: "pipe", stderr: "ignore" });
      return run.exitCode === 0 ? run.stdout.toString().trim() : null;
    } catch {
      return null; // no git on PATH
    }
  };
  const commit = git("rev-parse", "--short=12", "HEAD");
  if (!commit) return null;
  return git("status", "--porcelain", "--untracked-files=no") ? `${commit}-dirty` : commit;
}
