import { Type, type IntegerOptions, type TSchema } from "@sinclair/typebox";
import { t } from "elysia";
import { STATUSES } from "../domain/status.ts";

/**
 * A field's own message in a 422 (`validationDetails` reads it). It lives under a symbol key, so
 * JSON — and with it the OpenAPI document — never carries it: an `error` keyword there is not
 * JSON Schema, and linters and client generators refuse it.
 */
export const FIELD_MESSAGE = Symbol.for("tgcpa.fieldMessage");

/** The schema, with the message a 422 gives for it. */
export const withMessage = <T extends TSchema>(schema: T, message: string): T => Object.assign(schema, { [FIELD_MESSAGE]: message });

/** The message set by withMessage, if any. */
export const fieldMessage = (schema: unknown): string | undefined => {
  const own = (schema as Record<symbol, unknown> | undefined)?.[FIELD_MESSAGE];
  return typeof own === "string" ? own : undefined;
};

/**
 * A whole number, documented as `type: integer`. Elysia's own `t.Integer` is a coercing union
 * (`anyOf [string with format integer, integer]`) that the OpenAPI document shows as it is, so a
 * generated client types every id as `string | number`. Query, path and top-level body values
 * that arrive as decimal text are turned into numbers before validation instead
 * (http/integer-fields.ts).
 */
export const Int = (opts?: IntegerOptions) => Type.Integer(opts);

/** A lead status in a request: body, query or path. */
export const StatusSchema = withMessage(t.Union(STATUSES.map((s) => t.Literal(s)), {
  description: "wait | hold | approve | cancel | trash",
}), "must be one of wait, hold, approve, cancel, trash");

// Elysia validates query fields one by one and then reports no path; the title names the field.
export const queryInt = (name: string, opts: { minimum?: number; maximum?: number; default?: number; description?: string } = {}) =>
  t.Optional(withMessage(
    Int({ title: name, ...opts }),
    `must be a whole number${opts.minimum !== undefined ? ` from ${opts.minimum}` : ""}${opts.maximum !== undefined ? ` to ${opts.maximum}` : ""}`,
  ));

export const queryString = (name: string, description?: string) => t.Optional(t.String({ title: name, description }));

export const IdParams = t.Object({ id: withMessage(Int({ minimum: 1, title: "params.id" }), "must be a positive whole number") });

export const pageQuery = {
  before: queryInt("before", { minimum: 1, description: "cursor: next_before of the previous page" }),
  limit: queryInt("limit", { minimum: 1, maximum: 500, default: 50 }),
};
