// The run: scale, load generator and measurements shared between scenarios (each measured once).
import { waitIdle } from "./machine.ts";
import type { Scale } from "./scale.ts";

export interface BenchContext {
  scale: Scale;
  /** Runs `fn` once per run under `key`; later scenarios reuse the same-run figure. */
  memo<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Raw measurements for the JSON file, by key. */
  measurements: Record<string, unknown>;
  /** Cores other processes were using just before each measurement (see waitIdle). */
  busyBefore: Record<string, number | null>;
}

export function createContext(scale: Scale): BenchContext {
  const cache = new Map<string, Promise<unknown>>();
  const measurements: Record<string, unknown> = {};
  const busyBefore: Record<string, number | null> = {};
  return {
    scale,
    measurements,
    busyBefore,
    memo<T>(key: string, fn: () => Promise<T>) {
      let p = cache.get(key) as Promise<T> | undefined;
      if (!p) {
        p = waitIdle(key).then((busy) => {
          busyBefore[key] = busy;
          return fn();
        }).then((v) => {
          measurements[key] = v;
          return v;
        });
        cache.set(key, p);
      }
      return p;
    },
  };
}
