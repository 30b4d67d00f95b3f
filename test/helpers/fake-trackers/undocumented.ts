// Trackers whose answer format is undocumented (Voluum, RedTrack, BeMob, PeerClick, ClickFlare,
// Binom's goal postback).
import { ContractTracker } from "./contract-tracker.ts";
import type { Behaviour } from "./recording-tracker.ts";

/** Answers 200 with an empty body to anything: 2xx is all these trackers promise. */
export class FakeUndocumentedTracker extends ContractTracker {
  static async start(): Promise<FakeUndocumentedTracker> {
    return new FakeUndocumentedTracker().listen();
  }

  protected answer(): Behaviour {
    return { status: 200, body: "" };
  }
}
