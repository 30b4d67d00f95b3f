// Prosper202.
import { ContractTracker, json, text } from "./contract-tracker.ts";
import type { Behaviour, Received } from "./recording-tracker.ts";

export interface Prosper202Conversion {
  subid: string;
  amount: string;
  txid: string;
}

/**
 * Prosper202's server postback, `GET /tracking202/static/gpb.php?subid=…&amount=…` (its public
 * source, tracking202/static/gpb.php): the click id must be numeric (`subid`, or `sid`) and known,
 * else 404 with JSON `{"error":true,"code":404,"msg":"SubID not found"}`. A known click records a
 * conversion on every request — there is no status, and `txid` is not read — with `amount` as
 * its payout when numeric. The answer depends on the traffic source's pixel: none → 200 with an
 * empty body; a server-to-server pixel → 202 JSON `{"error":false,"code":202,"msg":"Postback successful"}`.
 * Anything off its path is the web server's 404.
 */
export class FakeProsper202 extends ContractTracker {
  /** Every conversion recorded, in order (a click converted twice is there twice). */
  readonly conversions: Prosper202Conversion[] = [];

  private constructor(private readonly clicks: Set<string>, private readonly pixel: "none" | "server") {
    super();
  }

  static async start(opts: { clicks: string[]; pixel?: "none" | "server" }): Promise<FakeProsper202> {
    return new FakeProsper202(new Set(opts.clicks), opts.pixel ?? "none").listen();
  }

  protected answer(req: Received): Behaviour {
    if (req.path !== "/tracking202/static/gpb.php") return text("Not Found", 404);
    const subid = req.query.subid ?? req.query.sid ?? "";
    if (!/^\d+$/.test(subid) || !this.clicks.has(subid)) return json({ error: true, code: 404, msg: "SubID not found" }, 404);
    const amount = req.query.amount ?? "";
    this.conversions.push({ subid, amount: /^\d+(\.\d+)?$/.test(amount) ? amount : "", txid: req.query.txid ?? "" });
    return this.pixel === "server" ? json({ error: false, code: 202, msg: "Postback successful" }, 202) : { status: 200, body: "" };
  }
}
