// @ts-check
// The dashboard talks to the same /api routes as scripts; the session cookie stands in for the
// API key, and every change carries the X-Requested-With header the service asks of cookie callers.

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {any} [details] the envelope's details */
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** @type {() => void} */
let onSignedOut = () => {};

/** Called when a request is refused for want of a session (expired, signed out elsewhere, key removed). */
export function whenSignedOut(/** @type {() => void} */ fn) {
  onSignedOut = fn;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-requested-with"] = "tgcpa-dashboard";
  const res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try {
    data = await res.json();
  } catch {
    // not JSON: reported below with the status
  }
  if (res.status === 401 && path !== "/api/session") onSignedOut();
  if (!res.ok) throw new ApiError(res.status, data?.error?.code ?? "http_error", data?.error?.message ?? `HTTP ${res.status}`, data?.error?.details);
  return data;
}

/** A query string of the defined, non-empty values. @param {Record<string, unknown>} params */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
