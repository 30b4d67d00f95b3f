import type { Awaitable } from "../storage/port.ts";

// An export as a stream: each read of the response's body reads the next page from storage.read,
// so a million rows pass through without being held (the body's consumer sets the pace: a client
// that stops reading stops the reads).

/** The next page, newest first; null when there is none. An empty page is a window with no match. */
export type Pager<T> = () => Promise<T[] | null>;

/** Ids read per window: each window is one read of at most this many rows, so none holds the event loop long. */
export const WINDOW_IDS = 2000;

/**
 * Pages of a table newest first: with a selective filter (an index finds its few rows) by `before`
 * cursor pages of the list; otherwise by windows of WINDOW_IDS ids down the primary key, each
 * tested against the filter (a filter's own index would be read in full and sorted for every page).
 */
export function idPager<T extends { id: number }>(source: {
  selective: boolean;
  list: (beforeId: number | undefined, limit: number) => Awaitable<T[]>;
  maxId: () => Awaitable<number | null>;
  inIdRange: (fromId: number, toId: number) => Awaitable<T[]>;
}, windowIds = WINDOW_IDS): Pager<T> {
  let top: number | null | undefined; // the next window ends below it
  let before: number | undefined;
  let done = false;
  return async () => {
    if (done) return null;
    if (source.selective) {
      const rows = await source.list(before, windowIds);
      if (rows.length < windowIds) done = true;
      else before = rows.at(-1)!.id;
      return rows;
    }
    if (top === undefined) top = ((await source.maxId()) ?? 0) + 1;
    if (top === null || top <= 1) {
      done = true;
      return null;
    }
    const from = Math.max(1, top - windowIds);
    const rows = await source.inIdRange(from, top);
    top = from;
    return rows;
  };
}

/**
 * A full garbage collection after this many rows (one window). Each window leaves its rows,
 * records and text behind; JSC's own heuristics let an export of 100k leads grow the service from
 * 80 to 147 MB before collecting, a collection every 20k rows to 128 MB, every window to 113 MB
 * (the same as for 20k rows: the rest is the first export's compiled code and caches). Measured
 * here on 2 cores; a collection of this small heap takes a few ms.
 */
const GC_EVERY_ROWS = WINDOW_IDS;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The body of an export: `header` first, then each page rendered, as the reader asks for it. A
 * window without a match renders nothing; the next is read after the event loop had its turn.
 */
export function exportStream<T>(header: string, pages: Pager<T>, render: (rows: T[]) => Promise<string> | string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let started = false;
  let sinceGc = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        if (header) return controller.enqueue(encoder.encode(header));
      }
      for (;;) {
        const rows = await pages();
        if (rows === null) return controller.close();
        const text = rows.length ? await render(rows) : "";
        sinceGc += rows.length;
        if (sinceGc >= GC_EVERY_ROWS) {
          sinceGc = 0;
          Bun.gc(true);
        }
        if (text) return controller.enqueue(encoder.encode(text));
        await yieldToEventLoop();
      }
    },
  }, { highWaterMark: 1 });
}
