import { AppError, isStorageUnavailable } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { routedPath } from "./auth.ts";
import { bodyPending } from "./body-deadline.ts";
import { fieldMessage } from "./schema.ts";

/** The one error envelope: `{error: {code, message, details?}}` with its HTTP status. */
export const errorBody = (status: number, code: string, message: string, details?: unknown) =>
  new Response(JSON.stringify({ error: { code, message, ...(details === undefined ? {} : { details }) } }), {
    status,
    headers: { "content-type": "application/json" },
  });

/** An answer in AlterCPA's style (`{status: "error", error, message}`), the one /api/postback speaks. */
export const inboundErrorBody = (status: number, error: string, message: string) =>
  new Response(JSON.stringify({ status: "error", error, message }), { status, headers: { "content-type": "application/json" } });

/** One entry per field: the schema's own message where it has one (schema.ts withMessage), else TypeBox's. */
export function validationDetails(where: string, issues: readonly unknown[]) {
  const byField = new Map<string, string>();
  for (const issue of issues as { path?: string; message?: string; schema?: { title?: string } }[]) {
    // A title with a dot names the whole field (path params, which Elysia reports without a path).
    const title = issue.schema?.title;
    const path = issue.path || (title && !title.includes(".") ? `/${title}` : "");
    const field = title?.includes(".") && !issue.path ? title : `${where === "property" ? "query" : where}${path.replace(/\//g, ".")}`;
    if (byField.has(field)) continue;
    byField.set(field, fieldMessage(issue.schema) ?? (issue.message ?? "is invalid").replace(/^Expected/, "expected"));
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

export interface ErrorHandlerDeps {
  log: Logger;
  /** Told of a storage failure met by a route that writes on its own, so /health says so too. */
  noteStorageFailure(err: unknown): void;
  /** The database file, for the log line. */
  storagePath(): string;
  /** Told of a body that missed its deadline (408), for /metrics. */
  noteBodyTimeout?(): void;
}

/**
 * Renders every error the same way (SPEC §6): domain errors with their own status and code,
 * validation as 422 naming each field, storage trouble as 503 (nothing was written: try again),
 * and anything unexpected as a 500 that never leaks its text.
 */
export function errorHandler(deps: ErrorHandlerDeps) {
  const log = deps.log.child({ component: "http" });
  const render = renderError(deps, log);
  // Whatever the error, the answer is the envelope: were this handler to throw, the runtime would
  // answer with its own page (in development mode: the stack, paths and source lines).
  return (context: { code: unknown; error: unknown; request: Request }) => {
    try {
      const res = render(context);
      // Answered before its body was read (a wrong webhook secret, a missed deadline): the rest is never read.
      if (bodyPending(context.request)) res.headers.set("connection", "close");
      return res;
    } catch (err) {
      try {
        log.error({ code: String(context.code), message: err instanceof Error ? err.message.slice(0, 200) : "unknown" }, "the error handler failed");
      } catch {
        // the log line is not worth a second failure
      }
      return errorBody(500, "internal", "internal error");
    }
  };
}

function renderError(deps: ErrorHandlerDeps, log: Logger) {
  return ({ code, error: thrown, request }: { code: unknown; error: unknown; request: Request }) => {
    // Elysia wraps what a body read threw (a missed body deadline) in its ParseError.
    const cause = code === "PARSE" ? (thrown as { cause?: unknown }).cause : undefined;
    const error = cause instanceof AppError ? cause : thrown;
    if (error instanceof AppError) {
      // The inbound endpoint speaks AlterCPA's envelope (a body refused before validation, e.g. too deep).
      const res = routedPath(request.url) === "/api/postback"
        ? inboundErrorBody(error.status === 422 ? 400 : error.status, "bad-request", error.message)
        : errorBody(error.status, error.code, error.message, error.details);
      if (error.status === 408) deps.noteBodyTimeout?.();
      return res;
    }
    if (code === "VALIDATION") {
      const v = error as { type: string; all: readonly unknown[] };
      const details = validationDetails(String(v.type), v.all);
      const first = details[0];
      return errorBody(422, "validation_failed", first ? `${first.field}: ${first.message}` : "invalid request", details);
    }
    if (code === "PARSE") {
      if (routedPath(request.url) === "/api/postback") return inboundErrorBody(400, "bad-request", "the request body cannot be parsed");
      return errorBody(400, "malformed_body", "the request body is not valid JSON");
    }
    if (code === "NOT_FOUND") return errorBody(404, "not_found", "no such route");
    if (code === "INVALID_COOKIE_SIGNATURE") return errorBody(400, "bad_request", "invalid cookie");
    const status = typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 500;
    if (status < 500) return errorBody(status, "bad_request", typeof (error as Error).message === "string" ? (error as Error).message.slice(0, 200) : "bad request");
    if (isStorageUnavailable(error)) {
      deps.noteStorageFailure(error);
      log.error({ err: error, db: deps.storagePath() }, "storage unavailable");
      return new Response(JSON.stringify({ error: { code: "storage_unavailable", message: `storage unavailable (${(error as Error).message}); nothing was written, try again` } }), {
        status: 503,
        headers: { "content-type": "application/json", "retry-after": "5" },
      });
    }
    log.error({ err: error }, "unhandled error");
    return errorBody(500, "internal", "internal error");
  };
}
