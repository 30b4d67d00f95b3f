// The error envelopes a client relies on: `{error: {code, message}}` for the management API, and
// AlterCPA's `{status: "error", error}` for the inbound postback route.

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
}

/**
 * What is wrong with a non-2xx answer, or null: the management envelope
 * `{error: {code, message}}`, or for /api/postback the AlterCPA style `{status: "error", error}`.
 */
export function envelopeProblem(path: string, a: Answer): string | null {
  if (a.status < 400) return null;
  let body: any;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `answer ${a.status} is not JSON: ${a.text.slice(0, 200)}`;
  }
  if (!a.contentType.includes("application/json")) return `answer ${a.status} has content-type ${a.contentType}`;
  const pathname = path.split("?")[0];
  if (pathname === "/api/postback") {
    if (body?.status !== "error" || typeof body.error !== "string" || body.error === "") {
      return `inbound answer ${a.status} is not {status:"error", error}: ${a.text.slice(0, 200)}`;
    }
    return null;
  }
  const e = body?.error;
  if (!e || typeof e.code !== "string" || !e.code || typeof e.message !== "string" || !e.message) {
    return `answer ${a.status} lacks {error: {code, message}}: ${a.text.slice(0, 200)}`;
  }
  return null;
}
