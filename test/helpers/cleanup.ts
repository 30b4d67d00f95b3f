import { afterEach } from "bun:test";

/** What a test file registers to close after each test. */
export interface Cleanup {
  /** Runs `fn` after the test (servers, trackers, temp dirs). */
  push(fn: () => unknown): void;
  /** Awaits something started (a fake tracker, a fake Bot API) and closes it after the test. */
  closing<T extends { close(): unknown }>(started: Promise<T>): Promise<T>;
}

/** Registers an afterEach that runs what was pushed during the test, the last pushed first. */
export function cleanupAfterEach(): Cleanup {
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of closers.splice(0).reverse()) await fn();
  });
  return {
    push: (fn) => void closers.push(fn),
    async closing(started) {
      const thing = await started;
      closers.push(() => thing.close());
      return thing;
    },
  };
}
