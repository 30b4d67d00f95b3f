/** API times are ISO 8601 strings; the DB keeps epoch ms. */
export const iso = (ms: number | null | undefined) => {
  if (ms == null) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString(); // never throw while rendering stored data
};

/** Accepts an ISO date or UNIX seconds in a query filter; returns epoch ms or undefined. */
export function parseTimeFilter(value: string | undefined): number | undefined | "invalid" {
  if (value === undefined || value === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? "invalid" : ms;
}
