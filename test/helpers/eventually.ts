/**
 * Polls `check` every `everyMs` until it holds; throws after `timeoutMs` of real time. For waiting on
 * something asynchronous (a delivery, a log line): a generous bound, never the assertion itself and
 * never a measure of speed.
 */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition", everyMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
