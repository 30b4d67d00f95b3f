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

/** A storage failure the caller should retry later (locked by another process, disk full, I/O error). */
export const isStorageUnavailable = (err: unknown): boolean =>
  typeof (err as { code?: unknown })?.code === "string" && UNAVAILABLE.test((err as { code: string }).code);
