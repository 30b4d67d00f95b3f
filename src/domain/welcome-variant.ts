// Which welcome a subscriber gets when a campaign has several (issue 22), as a pure rule.

export interface VariantChoice {
  name: string;
  /** Language tags this variant is for (`ru`, `en`, `pt-BR`); empty: any language. */
  languages: readonly string[];
  /** Relative weight among the variants that fit (> 0). */
  weight: number;
}

/** Whether a subscriber's language tag fits a variant's: the same tag, or the same primary language (`ru-RU` fits `ru`). */
export function languageFits(subscriber: string, wanted: string): boolean {
  const s = subscriber.toLowerCase();
  const w = wanted.toLowerCase();
  return s === w || s.split("-")[0] === w;
}

/**
 * 32-bit FNV-1a of a text, finished with MurmurHash3's fmix32, as a fraction in [0, 1): the same
 * seed gives the same fraction. The finish spreads a change of the last character (consecutive
 * user ids) over the high bits the fraction is read from; FNV-1a alone leaves them nearly equal.
 */
export function seedFraction(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * The index of the variant to send: among the variants whose languages fit the subscriber's
 * language; if none does, the variants for any language; if there are none, all of them. Among
 * those, one by weight, from a fraction of the seed (campaign and subscriber): the same
 * subscriber gets the same variant on every Start.
 */
export function chooseVariant(variants: readonly VariantChoice[], language: string | null, seed: string): number {
  if (variants.length <= 1) return 0;
  const indexed = variants.map((v, i) => ({ ...v, i }));
  const byLanguage = language ? indexed.filter((v) => v.languages.some((l) => languageFits(language, l))) : [];
  const general = indexed.filter((v) => v.languages.length === 0);
  const pool = byLanguage.length ? byLanguage : general.length ? general : indexed;
  const total = pool.reduce((s, v) => s + v.weight, 0);
  let point = seedFraction(seed) * total;
  for (const v of pool) {
    if (point < v.weight) return v.i;
    point -= v.weight;
  }
  return pool.at(-1)!.i;
}
