// CSV as RFC 4180 writes it, made safe to open in a spreadsheet (pure; table-tested in
// test/unit/csv.test.ts).

/** A cell: text, a number, or nothing (an empty cell). */
export type Cell = string | number | null | undefined;

/**
 * Characters that make a spreadsheet read a cell as a formula (Excel, LibreOffice, Google Sheets):
 * `= + - @`, and a tab or carriage return in front of them (OWASP, "CSV Injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell. A text that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+1+1`, `-2+3`,
 * `@SUM(…)`) gets a leading `'`, which every spreadsheet shows as the text it is and never
 * evaluates; numbers are written as numbers (a chat id -100… stays a number). Then, per RFC 4180,
 * a cell holding `"`, `,`, CR or LF is quoted and its `"` doubled.
 */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record: its cells joined by commas, ended by CRLF (RFC 4180 §2). */
export const csvLine = (cells: readonly Cell[]) => `${cells.map(csvCell).join(",")}\r\n`;
