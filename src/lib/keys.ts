import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time: compares fixed-length digests against every key, so neither length nor prefix leaks. */
export function keyMatches(given: string | null | undefined, keys: readonly string[]): boolean {
  if (!given) return false;
  const g = digest(given);
  let ok = false;
  for (const k of keys) ok = timingSafeEqual(g, digest(k)) || ok;
  return ok;
}
