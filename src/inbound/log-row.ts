import type { NewInboundLog } from "../storage/rows.ts";

/**
 * What one log row may keep, so that no request can make the log large: a parameter's value (and
 * the status word) up to 256 bytes of UTF-8, a parameter's name up to 64, all of them together
 * up to 4 KiB. What is cut is marked.
 */
export const LOG_LIMITS = { valueBytes: 256, nameBytes: 64, totalBytes: 4096 } as const;

/** `text` cut to at most `bytes` of UTF-8 on a character boundary, marked `…[+N bytes]` when cut. */
export function capText(text: string, bytes: number): string {
  const size = Buffer.byteLength(text); // a lone surrogate counts as the 3 bytes of its U+FFFD
  if (size <= bytes) return text.isWellFormed() ? text : text.toWellFormed();
  // The first `bytes` UTF-16 units hold at least `bytes` bytes: only they are encoded, however long the text.
  const head = Buffer.from(text.slice(0, bytes).toWellFormed());
  let end = bytes;
  while (end > 0 && (head[end]! & 0xc0) === 0x80) end--; // back to the first byte of a character cut in two
  return `${head.subarray(0, end).toString("utf8")}…[+${size - end} bytes]`;
}

/** The parameters a log row keeps: each name and value capped, then cut off at the total; a marker says how many were left out. */
export function capParams(params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  let total = 0;
  const entries = Object.entries(params);
  for (let i = 0; i < entries.length; i++) {
    const name = capText(entries[i]![0], LOG_LIMITS.nameBytes);
    const value = capText(entries[i]![1], LOG_LIMITS.valueBytes);
    total += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (total > LOG_LIMITS.totalBytes) {
      out["…"] = `+${entries.length - i} more parameters not kept`;
      break;
    }
    out[name] = value;
  }
  return out;
}

/**
 * A request without a valid key (result `access`) keeps only its time, address and result: an
 * anonymous caller stores nothing of its own. Any other row keeps its parameters, capped.
 */
export function boundedLogRow(row: NewInboundLog): NewInboundLog {
  if (row.result === "access") return { result: row.result, leadId: null, status: null, params: {}, ip: row.ip, createdAt: row.createdAt };
  return { ...row, status: row.status == null ? row.status : capText(row.status, LOG_LIMITS.valueBytes), params: capParams(row.params) };
}

