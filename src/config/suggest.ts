/**
 * Edits that turn `a` into `b`: insert, delete, replace one character, or swap two neighbours
 * (optimal string alignment distance; `unsub_windw` → `unsub_window` is 1, `dealy` → `delay` is 1).
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: edits between the first i characters of a and the first j of b.
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known word a misspelt one most likely meant, or undefined when none is close: at most one
 * edit for a word of up to 3 characters, two up to 6, three beyond (so `timeout` finds `timeout_ms`
 * but `foo` does not find `bot`). Case is ignored: `Port` finds `port`.
 */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const limit = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    // The distance is at least the difference in length: a long stray key costs no comparison.
    if (Math.abs(word.length - candidate.length) > limit) continue;
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { word: candidate, distance };
  }
  return best?.word;
}
