/**
 * Fake trackers that answer like the real ones (shared/reference/trackers.md), built on RecordingTracker:
 * each one records every request (`received`) and keeps the tracker-side state a test can inspect
 * (Keitaro conversions, AlterCPA leads, Binom conversions). Where the reference marks something
 * unverified, the fake takes the simplest reading and says so.
 *
 * `override(responder)` makes the tracker answer something else for a while (a 503, a hang); return
 * `undefined` from it to fall back to the contract.
 */
import { RecordingTracker, type Behaviour, type Received } from "./recording-tracker.ts";

export type Override = (req: Received, index: number) => Behaviour | undefined;

export const json = (value: unknown, status = 200): Behaviour => ({ status, body: JSON.stringify(value), headers: { "content-type": "application/json; charset=utf-8" } });
export const text = (body: string, status = 200): Behaviour => ({ status, body, headers: { "content-type": "text/plain; charset=utf-8" } });

/** What every contract fake offers; `fake` is the underlying recorder. */
export abstract class ContractTracker {
  fake!: RecordingTracker;
  private overrideFn: Override | null = null;

  protected abstract answer(req: Received): Behaviour;

  protected async listen(): Promise<this> {
    this.fake = await RecordingTracker.start((req, i) => this.overrideFn?.(req, i) ?? this.answer(req));
    return this;
  }

  /** `http://127.0.0.1:PORT`, the value for a destination's `domain`. */
  get base() {
    return this.fake.base;
  }

  get host() {
    return this.fake.host;
  }

  get received() {
    return this.fake.received;
  }

  /** The requests as `METHOD path?query` exactly as sent, in arrival order. */
  get lines() {
    return this.fake.lines;
  }

  override(fn: Override | null) {
    this.overrideFn = fn;
  }

  waitForCount(n: number, timeoutMs?: number) {
    return this.fake.waitForCount(n, timeoutMs);
  }

  waitUntil(check: (received: Received[]) => boolean, timeoutMs?: number, what?: string) {
    return this.fake.waitUntil(check, timeoutMs, what);
  }

  close() {
    return this.fake.close();
  }
}

/** A comma-separated list of status words, lower-cased (Keitaro's lead_status, AlterCPA's stn …). */
export const list = (value: string | undefined) => (value ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
