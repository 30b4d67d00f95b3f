// Binom.
import { ContractTracker, text } from "./contract-tracker.ts";
import type { Behaviour, Received } from "./recording-tracker.ts";

export interface BinomConversion {
  cnvId: string;
  status: string;
  status2: string;
  payout: string;
  currency: string;
  /** How many postbacks wrote it (a repeat overwrites). */
  writes: number;
}

/**
 * Binom: `GET /click.php?cnv_id=…` (path configurable: Binom 2 documents `/click`). The answer format
 * is undocumented; this one answers 200 with a short body to anything on its path (a repeat for
 * the same click overwrites the conversion), 404 elsewhere.
 */
export class FakeBinom extends ContractTracker {
  readonly conversions = new Map<string, BinomConversion>();

  private constructor(readonly path: string, private readonly body: string) {
    super();
  }

  static async start(opts: { path?: string; body?: string } = {}): Promise<FakeBinom> {
    return new FakeBinom(opts.path ?? "/click.php", opts.body ?? "ok").listen();
  }

  protected answer(req: Received): Behaviour {
    if (req.path !== this.path) return text("Not found", 404);
    const q = req.query;
    if (q.cnv_id) {
      const prev = this.conversions.get(q.cnv_id);
      this.conversions.set(q.cnv_id, {
        cnvId: q.cnv_id, status: q.cnv_status ?? "", status2: q.cnv_status2 ?? "", payout: q.payout ?? "", currency: q.cnv_currency ?? "",
        writes: (prev?.writes ?? 0) + 1,
      });
    }
    return text(this.body);
  }
}
