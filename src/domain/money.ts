// Money as pure rules (issue 22): amounts are kept in millionths of their currency (integers, so
// sums are exact), currencies are never added together.

/** Millionths of a currency unit in one unit. */
export const MICROS = 1_000_000;

/** A decimal amount as written ("12.5", "-3", "0.000001"; a comma as the decimal mark too) in millionths; null when it is not one. */
export function parseAmount(text: string | number): number | null {
  const s = String(text).trim().replace(",", ".");
  const m = /^(-?)(\d{1,12})(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return null;
  const micros = Number(m[2]) * MICROS + Number((m[3] ?? "").padEnd(6, "0"));
  return m[1] ? -micros : micros;
}

/** Millionths back to a decimal text with at least 2 decimals ("12.50", "0.000001"). */
export function formatAmount(micros: number): string {
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS);
  const frac = String(abs % MICROS).padStart(6, "0").replace(/0{1,4}$/, "");
  return `${sign}${whole}.${frac.padEnd(2, "0")}`;
}

/** A currency code as written in costs and payouts: 3 letters (ISO 4217), upper-cased; "" for none. */
export const normalCurrency = (c: string | null | undefined) => (c ?? "").trim().toUpperCase();
export const isCurrency = (c: string) => /^[A-Z]{3}$/.test(c);

/**
 * What one applied lead event earned: its payout (an inbound postback's, else the campaign's for
 * its status) when its postbacks were reported, i.e. not withheld (outside the unsubscribe
 * window) nor skipped (a paused campaign). null when it earned nothing or the payout is not a number.
 */
export function revenueOf(
  event: { payout: string | null; currency: string | null }, configured: { payout: string; currency: string } | undefined, reported: boolean,
): { micros: number; currency: string } | null {
  if (!reported) return null;
  const payout = event.payout ?? configured?.payout ?? "";
  if (payout === "") return null;
  const micros = parseAmount(payout);
  if (micros === null || micros === 0) return null;
  return { micros, currency: normalCurrency(event.currency ?? configured?.currency) };
}

/** A ratio of money to a count, in millionths (rounded); null when the count is 0. */
export const perHead = (micros: number, n: number | null) => (n ? Math.round(micros / n) : null);

export interface CostLine { line: number; campaign: string; date: string; micros: number; currency: string }

/**
 * A cost CSV (`campaign,date,amount,currency` per line; a header line naming them is skipped;
 * blank lines too): every line parsed, or the first problems, each naming its line number. All
 * or nothing: a caller writes the lines only when there are no problems.
 */
export function parseCostCsv(text: string, known: (campaign: string) => boolean): { lines: CostLine[]; problems: { line: number; message: string }[] } {
  const lines: CostLine[] = [];
  const problems: { line: number; message: string }[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === "") return;
    const cells = raw.split(raw.includes(";") && !raw.includes(",") ? ";" : ",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
    if (n === 1 && cells[0]?.toLowerCase() === "campaign") return;
    const fail = (message: string) => problems.push({ line: n, message });
    if (cells.length !== 4) return fail(`has ${cells.length} fields; expected 4: campaign,date,amount,currency`);
    const [campaign, date, amount, cur] = cells as [string, string, string, string];
    if (!known(campaign)) return fail(`unknown campaign "${campaign}"`);
    if (!isDate(date)) return fail(`"${date}" is not a date (YYYY-MM-DD)`);
    const micros = parseAmount(amount);
    if (micros === null || micros < 0) return fail(`"${amount}" is not an amount such as 12.50 (0 or more, up to 6 decimals)`);
    const currency = normalCurrency(cur);
    if (!isCurrency(currency)) return fail(`"${cur}" is not a currency code such as USD or EUR`);
    const key = `${campaign}\n${date}`;
    const twin = seen.get(key);
    if (twin !== undefined) return fail(`${campaign} ${date} is already on line ${twin}`);
    seen.set(key, n);
    lines.push({ line: n, campaign, date, micros, currency });
  });
  return { lines, problems };
}

/** A real calendar date written YYYY-MM-DD. */
export function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}
