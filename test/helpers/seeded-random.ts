// Seeded randomness for tests that must replay: the same seed gives the same sequence.

/** The seed of the fault tests (test/faults); override with TGCPA_FAULT_SEED to replay another run. */
export const SEED = Number(process.env.TGCPA_FAULT_SEED ?? 20240611);

/** mulberry32: a small seeded PRNG, the same sequence for the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable number in [0, 1) for a string (FNV-1a mixed with the seed): "a seeded fraction of URLs". */
export function hash01(text: string, seed = SEED): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return rng(h)();
}
