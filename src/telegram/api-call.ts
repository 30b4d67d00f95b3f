import type { Api } from "grammy";

/** grammY's Node build types its signal with the abort-controller shim; the runtime takes a standard one. */
export type GrammySignal = Parameters<Api["getMe"]>[0];

/** A Bot API call that got no answer in time. */
export class NoAnswer extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

/**
 * A Bot API call bounded by `stop` and by `ms` of wall time (a network timeout, like delivery's:
 * it must end even where a test's clock stands still); throws NoAnswer when the time ran out. A
 * Bot API that accepts the connection and never answers would otherwise hold the call for
 * grammY's 500 s.
 */
export async function bounded<T>(stop: AbortSignal, ms: number, call: (signal: GrammySignal) => Promise<T>): Promise<T> {
  const timeout = AbortSignal.timeout(ms);
  try {
    return await call(AbortSignal.any([stop, timeout]) as unknown as GrammySignal);
  } catch (err) {
    throw timeout.aborted && !stop.aborted ? new NoAnswer(ms) : err;
  }
}
