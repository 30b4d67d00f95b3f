import { AppError } from "../lib/errors.ts";
import { bodyReadToEnd, withinBodyDeadline } from "./body-deadline.ts";

/** Any request body larger than this is refused by the server itself (Bun answers 413). */
export const MAX_BODY_BYTES = 1024 * 1024;

const tooLarge = (limit: number) => new AppError(413, "body_too_large", `the request body is larger than ${limit} bytes`);

/** The body size a request declares (Content-Length), 0 when it declares none (chunked). */
export const declaredLength = (request: Request) => Number(request.headers.get("content-length") ?? 0) || 0;

/**
 * Reads a body as text, at most `limit` bytes: the declared length is checked first, and a body
 * without one (chunked) is read only until it passes the limit.
 */
export async function readBodyLimited(request: Request, limit: number): Promise<string> {
  const declared = declaredLength(request);
  if (declared > limit) throw tooLarge(limit);
  if (declared > 0 || !request.body) return await request.text(); // a known length within the limit: read at once
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await withinBodyDeadline(request, reader.read());
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  bodyReadToEnd(request);
  return new TextDecoder().decode(Buffer.concat(chunks));
}
