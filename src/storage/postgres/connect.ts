// Opens the PostgreSQL pool (Bun.sql) from storage.url and storage.pool_size, and says in the
// storage vocabulary why it could not: a StorageError naming the server (password hidden) and what
// to do. Transient failures later on (a dropped connection, a restart, a deadlock) are read by
// isStorageUnavailable (lib/errors.ts) as "unavailable, retry".
import { SQL } from "bun";
import { StorageError } from "../sqlite/client.ts";
import type { Logger } from "../../lib/logger.ts";

export interface PostgresOptions {
  /** postgres:// or postgresql:// URL (storage.url). */
  url: string;
  /** Connections in the pool (storage.pool_size). */
  pool_size: number;
  /** Shown in pg_stat_activity, so an operator can tell the instances' connections apart. */
  application_name?: string;
  log?: Pick<Logger, "warn" | "debug">;
}

/** How long opening one connection may take, s: a server that does not answer is an error, not a hang. */
const CONNECT_TIMEOUT_S = 10;
/** An idle connection is closed after this long, s, so a quiet instance does not hold pool_size backends. */
const IDLE_TIMEOUT_S = 60;

/**
 * The pool, once one query went through: a wrong URL, a server down, a missing database or a
 * refused login stops the start here with a StorageError instead of on the first request.
 *
 * int8 columns come back as decimal strings (Bun's default; `bigint: false`): drizzle's
 * bigint({ mode: "number" }) turns them into numbers, and raw queries use readInt8.
 */
export async function openPostgres(options: PostgresOptions): Promise<PostgresPool> {
  const shown = redactUrl(options.url);
  let closing = false;
  const sql = new SQL(options.url, {
    max: options.pool_size,
    bigint: false,
    connectionTimeout: CONNECT_TIMEOUT_S,
    idleTimeout: IDLE_TIMEOUT_S,
    connection: { application_name: options.application_name ?? "tgcpa" },
    onclose: (err) => {
      if (closing) return;
      const { code, errno } = (err ?? {}) as { code?: string; errno?: string };
      // An idle connection closed by the pool itself is routine; a lost one is worth a line.
      if (code === "ERR_POSTGRES_IDLE_TIMEOUT" || code === "ERR_POSTGRES_LIFETIME_TIMEOUT") options.log?.debug({ code }, "postgres connection closed");
      else options.log?.warn({ code, errno, db: shown }, "postgres connection lost");
    },
  });
  const close = async (timeoutS = 0) => {
    closing = true;
    await sql.close({ timeout: timeoutS });
  };
  try {
    await sql`SELECT 1`;
  } catch (err) {
    await close().catch(() => {});
    throw new StorageError(`PostgreSQL at ${shown}: ${describeConnectError(err)}`, { cause: err });
  }
  return { sql, shown, close };
}

export interface PostgresPool {
  sql: SQL;
  /** storage.url with its password hidden, for logs and messages. */
  shown: string;
  /** Closes the pool; running queries get `timeoutS` seconds to finish. */
  close(timeoutS?: number): Promise<void>;
}

/** What went wrong opening the pool, with what to check; never the password. */
export function describeConnectError(err: unknown): string {
  const { code, errno, message } = (err ?? {}) as { code?: string; errno?: string; message?: string };
  switch (code) {
    case "ERR_POSTGRES_CONNECTION_REFUSED": return "connection refused: check the host and port in storage.url and that the server is running";
    case "ERR_POSTGRES_CONNECTION_TIMEOUT": return `no answer within ${CONNECT_TIMEOUT_S} s: check the host in storage.url and the network between them`;
    case "ERR_POSTGRES_TLS_NOT_AVAILABLE": return "the server does not offer TLS, which storage.url asks for (sslmode)";
  }
  if (code?.startsWith("ERR_POSTGRES_SASL") || code?.startsWith("ERR_POSTGRES_AUTHENTICATION")) return `login failed (${code}): check the user and password in storage.url`;
  switch (errno) {
    case "28P01": case "28000": return `${message}: check the user and password in storage.url`;
    case "3D000": return `${message}: create it (createdb), or fix the database name in storage.url`;
    case "53300": return `${message}: the server has no free connection; lower storage.pool_size or raise its max_connections`;
    case "57P03": return `${message}: the server is starting or shutting down; try again`;
  }
  return [message ?? String(err), code && `(${code}${errno ? ` ${errno}` : ""})`].filter(Boolean).join(" ");
}

/** The URL as it may be shown and logged: the password (and a password parameter) replaced by ***. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "(storage.url is not a URL)";
  }
  if (parsed.password) parsed.password = "***";
  for (const name of [...parsed.searchParams.keys()]) if (/pass/i.test(name)) parsed.searchParams.set(name, "***");
  return parsed.toString().replaceAll("%2A%2A%2A", "***");
}

/**
 * An int8 read by a raw query (a decimal string with `bigint: false`) as a number; tgcpa's int8
 * values (epoch ms, ids) stay below 2^53, and one that does not is an error, not a rounded number.
 */
export function readInt8(value: string | number | bigint): number;
export function readInt8(value: string | number | bigint | null): number | null;
export function readInt8(value: string | number | bigint | null): number | null {
  if (value === null) return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} is not an integer below 2^53`);
  return n;
}
