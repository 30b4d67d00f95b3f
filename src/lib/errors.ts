/** The one error vocabulary: every failure that reaches a client is an AppError. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export interface FieldError {
  field: string;
  message: string;
}

export const invalid = (field: string, message: string) =>
  new AppError(422, "validation_failed", `${field}: ${message}`, [{ field, message } satisfies FieldError]);

export const notFound = (what: string, id: string | number) => new AppError(404, "not_found", `${what} ${id} not found`);

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)/;

/** Bun.sql's own codes for a connection that could not be made or was lost (src/storage/postgres). */
const PG_CONNECTION = /^ERR_POSTGRES_(CONNECTION_(REFUSED|CLOSED|FAILED|TIMEOUT)|IDLE_TIMEOUT|LIFETIME_TIMEOUT)$/;
/**
 * SQLSTATEs worth a retry: 08 connection exceptions, 53 insufficient resources (too many
 * connections, disk full), 57P01-57P03 the server shutting down or starting, 40001 serialization
 * failure and 40P01 deadlock (the transaction was rolled back whole).
 */
const PG_RETRY_STATE = /^(08...|53...|57P0[123]|40001|40P01)$/;

/**
 * A storage failure the caller should retry later: SQLite locked by another process, disk full or an
 * I/O error; PostgreSQL unreachable, the connection lost or the transaction chosen to fail.
 */
export function isStorageUnavailable(err: unknown): boolean {
  const { code, errno } = (err ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code !== "string") return false;
  if (UNAVAILABLE.test(code) || PG_CONNECTION.test(code)) return true;
  return code === "ERR_POSTGRES_SERVER_ERROR" && typeof errno === "string" && PG_RETRY_STATE.test(errno);
}
