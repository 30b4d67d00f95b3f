// What of a tracker's answer is kept (the attempt log's response_head, a reason's words): never an
// HTML page — a login, error or parking page may hold a session or CSRF token — and never a
// token-shaped value inside a text answer.

/** Markup anywhere in an answer: a document, or a fragment with a head, body, meta, form, input or script tag. */
const HTML_MARKUP = /<(?:!doctype\s+html|html|head|body|meta|form|input|script|iframe)(?=[\s>/])/i;

export const isHtmlMarkup = (body: string) => HTML_MARKUP.test(body);

/**
 * Token-shaped, and so replaced by `***`:
 * - the value after a name that says secret — token, csrf/xsrf, key, secret, session, sid, auth,
 *   password, jwt, nonce (`csrf_token=…`, `"apiKey": "…"`, `name="_csrf" value="…"`): a run of 8 or
 *   more characters that are not blanks, quotes, `& , ; : = < >` (so `Unauthorized: session=…` is
 *   read as the name `session`, not as the value of `auth…`);
 * - wherever it stands, a JWT (`eyJ….….…`), a run of 32 or more hex digits, or a run of 32 or more
 *   base64/base64url characters holding both a letter and a digit.
 * Shorter words, and the words of a refusal ("Click ID not found in database."), are kept.
 */
const NAMED = /((?:token|csrf|xsrf|key|secret|session|sid|auth|password|passwd|jwt|nonce)[\w-]*["']?\s*(?:[:=]|\s+value=|\s+content=)\s*["']?)([^\s"'&,;:=<>]{8,})/gi;
const JWT = /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}/g;
const LONG_RUN = /[A-Za-z0-9+/_-]{32,}={0,2}/g;
const mixed = (run: string) => /[A-Za-z]/.test(run) && /\d/.test(run);

/** The same mark the ad platforms' secrets get in the attempt log (adplatforms/secrets.ts). */
export const REDACTED = "***";

export function redactTokens(text: string): string {
  return text
    .replace(NAMED, (_, name: string) => `${name}${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(LONG_RUN, (run) => (/^[0-9a-f]+$/i.test(run) || mixed(run) ? REDACTED : run));
}

/** The attempt log keeps at most this much of an answer, bytes. */
export const ANSWER_HEAD_BYTES = 1024;

/** The first `bytes` of a text, cut on a character boundary. */
export function cutToBytes(text: string, bytes = ANSWER_HEAD_BYTES): string {
  const encoded = Buffer.from(text);
  if (encoded.byteLength <= bytes) return text;
  return new TextDecoder().decode(encoded.subarray(0, bytes)).replace(/\uFFFD$/, "");
}

/**
 * What the attempt log keeps of an answer: for an HTML page its status line and a short reason
 * (`HTTP 200: an HTML page, not stored`), else its first 1 KiB with token-shaped values redacted
 * (redacted before the cut, so a token cut in half is not half kept).
 */
export function storedAnswerHead(status: number, body: string): string {
  if (isHtmlMarkup(body)) return `HTTP ${status}: an HTML page, not stored (it may hold a session or CSRF token)`;
  return cutToBytes(redactTokens(body));
}
