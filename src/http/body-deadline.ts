// A request body must arrive within a deadline proportional to its size: a client that trickles
// a declared 1 MiB at a byte every few seconds would otherwise hold its connection (and a file
// descriptor) for as long as it likes. Wall time by nature, like a network timeout.
import { AppError } from "../lib/errors.ts";
import { MAX_BODY_BYTES } from "./body.ts";

/** Every body gets this long at least, ms: enough for a slow mobile link and a small body. */
export const BODY_BASE_MS = 5_000;
/** And this long per MiB it declares, ms (about 100 KiB/s); a chunked body counts as the largest allowed, 1 MiB. */
export const BODY_MS_PER_MIB = 10_000;

const MIB = 1024 * 1024;

/** The deadline of a body of `declaredBytes` (null: chunked, length unknown), ms from when its headers arrived. */
export const bodyDeadlineMs = (declaredBytes: number | null) =>
  BODY_BASE_MS + Math.ceil(((declaredBytes ?? MAX_BODY_BYTES) / MIB) * BODY_MS_PER_MIB);

/** Whether a request comes with a body (a declared length above 0, or chunked). */
export const hasBody = (request: Request) =>
  request.headers.has("transfer-encoding") || (Number(request.headers.get("content-length") ?? 0) || 0) > 0;

/** Whether its body has not been read to its end yet (an answer now leaves the rest unread). */
export const bodyPending = (request: Request) => deadlines.get(request)?.pending() ?? false;

const timedOut = (ms: number) => new AppError(408, "body_timeout", `the request body did not arrive within ${ms / 1000} s (${BODY_BASE_MS / 1000} s and ${BODY_MS_PER_MIB / 1000} s per MiB it declares)`);

const EXPIRED = Symbol("expired");
const READERS = ["json", "text", "arrayBuffer", "formData", "bytes", "blob"] as const;

interface Deadline {
  /** A read raced against the deadline; `whole`: it reads the whole body, so the deadline ends with it. */
  within<T>(read: Promise<T>, whole: boolean): Promise<T>;
  end(): void;
  pending(): boolean;
}

/** The deadline of each request that has one. */
const deadlines = new WeakMap<Request, Deadline>();

/**
 * Arms the deadline of a request with a body (declared or chunked): from now on, reading it —
 * through request.json()/text()/… (what Elysia's parser calls) or through `withinBodyDeadline`
 * (readers of request.body) — fails with a 408 once the deadline passes. The answer is sent at
 * once and the connection closed, the rest of the body unread. Returns the deadline in ms, or null.
 */
export function armBodyDeadline(request: Request): number | null {
  if (!hasBody(request)) return null;
  const chunked = request.headers.has("transfer-encoding");
  const declared = Number(request.headers.get("content-length") ?? 0) || 0;
  const ms = bodyDeadlineMs(chunked ? null : declared);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const expired = new Promise<typeof EXPIRED>((resolve) => {
    timer = setTimeout(() => resolve(EXPIRED), ms);
  });
  const deadline: Deadline = {
    async within(read, whole) {
      try {
        const value = await Promise.race([read, expired]);
        if (value === EXPIRED) {
          read.catch(() => {}); // it fails when the connection closes under it
          throw timedOut(ms); // still pending: the answer closes the connection
        }
        if (whole) done = true;
        return value as Awaited<typeof read>;
      } finally {
        if (whole) clearTimeout(timer);
      }
    },
    end: () => {
      done = true;
      clearTimeout(timer);
    },
    pending: () => !done,
  };
  for (const name of READERS) {
    const original = (request[name] as () => Promise<unknown>).bind(request);
    Object.defineProperty(request, name, { value: () => deadline.within(original(), true), configurable: true });
  }
  deadlines.set(request, deadline);
  return ms;
}

/** One read of a part of this request's body (a chunk of request.body), bounded by its deadline when it has one. */
export const withinBodyDeadline = <T>(request: Request, read: Promise<T>): Promise<T> => deadlines.get(request)?.within(read, false) ?? read;

/** The body was read to its end (through request.body): its deadline is over. */
export const bodyReadToEnd = (request: Request) => deadlines.get(request)?.end();
