import { t } from "elysia";
import { STATUSES } from "../domain/status.ts";

/** A lead status in a request: body, query or path. */
export const StatusSchema = t.Union(STATUSES.map((s) => t.Literal(s)), {
  description: "wait | hold | approve | cancel | trash",
  error: "must be one of wait, hold, approve, cancel, trash",
});


// Elysia validates query fields one by one and then reports no path; the title names the field.
export const queryInt = (name: string, opts: { minimum?: number; maximum?: number; default?: number; description?: string } = {}) =>
  t.Optional(t.Integer({
    title: name,
    ...opts,
    error: `must be a whole number${opts.minimum !== undefined ? ` from ${opts.minimum}` : ""}${opts.maximum !== undefined ? ` to ${opts.maximum}` : ""}`,
  }));

export const queryString = (name: string, description?: string) => t.Optional(t.String({ title: name, description }));

export const IdParams = t.Object({ id: t.Integer({ minimum: 1, title: "params.id", error: "must be a positive whole number" }) });

export const pageQuery = {
  before: queryInt("before", { minimum: 1, description: "cursor: next_before of the previous page" }),
  limit: queryInt("limit", { minimum: 1, maximum: 500, default: 50 }),
};
