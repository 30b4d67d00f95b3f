import { AppError } from "../lib/errors.ts";

/**
 * JSON bodies nest at most this deep (an object or array inside another counts one level).
 * tgcpa's deepest body, a Telegram update with a reply inside a message, is under 10 levels; a
 * 5,000-deep body made the validator's error text recurse until the stack ran out.
 */
export const MAX_JSON_DEPTH = 64;

/** Management API bodies (events, retries, sign-in) are a few hundred bytes; 64 KiB is generous. */
export const MAX_API_JSON_BYTES = 64 * 1024;

export const TOO_DEEP = `nested deeper than ${MAX_JSON_DEPTH} levels`;

/** Whether a parsed JSON value nests deeper than `limit`, found without recursion (so any depth is safe to ask about). */
export function nestedDeeperThan(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The 422 for a body nested too deep, naming the limit; thrown before validation reads the body. */
export const tooDeep = () => new AppError(422, "validation_failed", `body: ${TOO_DEEP}`, [{ field: "body", message: TOO_DEEP }]);
