import type { AddressGuard } from "./address-guard.ts";
import { ANSWER_HEAD_BYTES, cutToBytes, storedAnswerHead } from "../domain/stored-answer.ts";
import { parseRetryAfter, type AttemptResult } from "../domain/verdict.ts";

export interface OutgoingRequest {
  method: string;
  url: string;
  body: string | null;
  contentType: string | null;
  /** Extra headers (an ad platform's token, filled in at send time); not sent on to another origin by a redirect. */
  headers?: Readonly<Record<string, string>>;
}

export interface SendOptions {
  timeoutMs: number;
  maxRedirects: number;
  guard: AddressGuard;
  /**
   * Aborts the request: the caller aborts it from outside (shutdown), the sender on its timeout
   * (reason TimeoutError). One controller per request, shared with the caller, so no listeners.
   */
  abort?: AbortController;
  /** Root certificates (PEM) to trust instead of the system's: tests serve HTTPS with a self-signed one. */
  ca?: string;
  now(): number;
}

export interface SendReport {
  result: AttemptResult;
  /** The last URL requested (after redirects). */
  url: string;
  /** First 1 KiB of the final response body, for the attempt log. */
  responseHead: string | null;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Enough for any preset's verdict; only RESPONSE_HEAD_BYTES of it is stored. */
const BODY_READ_LIMIT = 16 * 1024;
export const RESPONSE_HEAD_BYTES = ANSWER_HEAD_BYTES;
const USER_AGENT = "tgcpa/0.1 (+postback)";

/**
 * Sends one postback, following at most `maxRedirects` redirects; each hop is checked by the
 * address guard and sent to an address it checked.
 */
export async function sendPostback(req: OutgoingRequest, opts: SendOptions): Promise<SendReport> {
  // A cleared timer rather than AbortSignal.timeout, which would keep a timer (and the request's
  // memory) alive for the full timeout after every request.
  const controller = opts.abort ?? new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), opts.timeoutMs);
  try {
    return await sendWithin(req, opts, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function sendWithin(req: OutgoingRequest, opts: SendOptions, signal: AbortSignal): Promise<SendReport> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    return { result: { kind: "error", error: "malformed_url", message: "not a valid URL" }, url: req.url, responseHead: null };
  }
  let { method, body } = req;
  const origin = url.origin;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return { result: { kind: "error", error: "malformed_url", message: `unsupported scheme ${url.protocol}` }, url: url.href, responseHead: null };
    }
    const guard = opts.guard.checkWithoutLookup(url) ?? await untilAborted(opts.guard.check(url), signal);
    if (!guard) return { result: fetchError(signal.reason, signal), url: url.href, responseHead: null };
    if (!guard.ok) return { result: { kind: "error", error: guard.error, message: guard.message }, url: url.href, responseHead: null };
    let res: Response;
    try {
      res = await fetchChecked(url, guard.addresses, {
        method,
        body: body ?? undefined,
        headers: {
          "user-agent": USER_AGENT,
          ...(body !== null && req.contentType ? { "content-type": req.contentType } : {}),
          ...(req.headers && url.origin === origin ? req.headers : {}), // as fetch drops Authorization across origins
        },
        redirect: "manual",
        signal,
        ...(opts.ca === undefined ? {} : { tls: { ca: opts.ca } }),
      });
    } catch (err) {
      return { result: fetchError(err, signal), url: url.href, responseHead: null };
    }
    const location = res.headers.get("location");
    if (REDIRECTS.has(res.status) && location) {
      await res.body?.cancel().catch(() => {});
      if (hop >= opts.maxRedirects) {
        return { result: { kind: "error", error: "too_many_redirects", message: `more than ${opts.maxRedirects} redirects` }, url: url.href, responseHead: null };
      }
      try {
        url = new URL(location, url);
      } catch {
        return { result: { kind: "error", error: "malformed_url", message: `redirect to an invalid Location: ${location.slice(0, 200)}` }, url: url.href, responseHead: null };
      }
      // Like browsers: 303 (and 301/302 after a POST) continue as a GET without a body.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = "GET";
        body = null;
      }
      continue;
    }
    let text: string;
    try {
      text = await readLimited(res, BODY_READ_LIMIT);
    } catch (err) {
      return { result: fetchError(err, signal), url: url.href, responseHead: null };
    }
    return {
      result: { kind: "response", status: res.status, body: text, retryAfterMs: parseRetryAfter(res.headers.get("retry-after"), opts.now()) },
      url: url.href,
      responseHead: storedAnswerHead(res.status, text), // never an HTML page or a token-shaped value
    };
  }
}

/** Errors that mean no connection was made, so nothing was sent: the next checked address may be tried. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "EADDRNOTAVAIL", "ConnectionRefused", "FailedToOpenSocket"]);

/**
 * fetch to an address the guard checked (DNS rebinding: fetch must not resolve the name again and
 * reach another address). The URL's name is replaced by the address while the Host header and,
 * for https, the TLS server name stay the name: SNI and the certificate check are for the name
 * (Bun's tls.serverName). A connection refused moves on to the next checked address. With no
 * addresses (an IP literal, an allow-listed name) the URL is fetched as it is.
 */
function fetchChecked(url: URL, addresses: readonly string[] | null, init: BunFetchRequestInit & { headers: Record<string, string> }): Promise<Response> {
  return addresses === null ? fetch(url, init) : fetchAddresses(url, addresses, init); // the fast path adds no promise of its own
}

async function fetchAddresses(url: URL, addresses: readonly string[], init: BunFetchRequestInit & { headers: Record<string, string> }): Promise<Response> {
  const headers = { ...init.headers, host: url.host };
  const tls = url.protocol === "https:" ? { ...init.tls, serverName: url.hostname.replace(/\.$/, "") } : init.tls;
  let refused: unknown;
  for (const address of addresses) {
    const target = new URL(url);
    target.hostname = address.includes(":") ? `[${address}]` : address;
    try {
      return await fetch(target, { ...init, headers, tls });
    } catch (err) {
      if (!NOT_CONNECTED.has((err as { code?: string }).code ?? "")) throw err;
      refused = err;
    }
  }
  throw refused;
}

/** Resolves with the promise's value, or undefined once the signal aborts (a DNS lookup cannot be cancelled). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
      (e) => { signal.removeEventListener("abort", onAbort); reject(e); },
    );
  });
}

function fetchError(err: unknown, signal: AbortSignal): AttemptResult {
  const e = err as Error & { code?: string };
  const timedOut = signal.aborted && (signal.reason as Error | undefined)?.name === "TimeoutError";
  if (timedOut || e.name === "TimeoutError") return { kind: "error", error: "timeout", message: "no complete answer in time" };
  if (e.name === "AbortError") return { kind: "error", error: "network", message: "aborted" };
  return { kind: "error", error: "network", message: e.code ? `${e.code}: ${e.message}` : e.message };
}

async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  if (length <= limit) return await res.text(); // a small body of known size: read at once
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  if (size >= limit) await reader.cancel().catch(() => {});
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}

/** The first 1 KiB of a body, cut on a character boundary (answers the service itself reads, e.g. the Bot API's). */
export const headOf = (text: string) => cutToBytes(text, RESPONSE_HEAD_BYTES);
