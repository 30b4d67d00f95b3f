import { timingSafeEqual } from "node:crypto";

const digest = (s: string) => Bun.CryptoHasher.hash("sha256", s) as Uint8Array;

/** Digests of the configured keys, per key list (a reload brings a new list). */
const digestsOf = new WeakMap<readonly string[], Uint8Array[]>();

/** Constant-time: compares fixed-length digests against every key, so neither length nor prefix leaks. */
export function keyMatches(given: string | null | undefined, keys: readonly string[]): boolean {
  if (!given) return false;
  let digests = digestsOf.get(keys);
  if (!digests) digestsOf.set(keys, (digests = keys.map(digest)));
  const g = digest(given);
  let ok = false;
  for (const d of digests) ok = timingSafeEqual(g, d) || ok;
  return ok;
}
