// Keitaro and the self-hosted trackers with Keitaro's route and parameters.
import { ContractTracker, list, text } from "./contract-tracker.ts";
import type { Behaviour, Received } from "./recording-tracker.ts";

export type KeitaroStatus = "lead" | "sale" | "rejected" | "rebill";

export interface KeitaroConversion {
  subid: string;
  status: KeitaroStatus;
  payout: string;
  currency: string;
  tid: string;
  /** Every status the postbacks asked for, after translation, accepted or not. */
  asked: KeitaroStatus[];
}

/** Transitions Keitaro accepts (reference: lead→sale, lead→rejected, sale→rejected). */
const KEITARO_MOVES: Record<KeitaroStatus, KeitaroStatus[]> = { lead: ["sale", "rejected"], sale: ["rejected"], rejected: [], rebill: [] };

/**
 * Keitaro v9–v11: `GET /{key}/postback?subid=…&status=…`. Always HTTP 200; the body is `Success`,
 * `Incorrect postback code` (wrong key path, including a trailing slash) or `Incorrect subid`
 * (subid missing or empty). Incoming words are translated by `lead_status`, `sale_status`,
 * `rejected_status`; a missing status means `lead`; a word it cannot place is answered `Success`
 * (Keitaro processes later) and kept in `unplaced`. `return` replaces the success text.
 */
export class FakeKeitaro extends ContractTracker {
  readonly conversions = new Map<string, KeitaroConversion>();
  readonly unplaced: string[] = [];

  private constructor(readonly key: string) {
    super();
  }

  static async start(opts: { key?: string } = {}): Promise<FakeKeitaro> {
    return new FakeKeitaro(opts.key ?? "e89bcbe").listen();
  }

  protected answer(req: Received): Behaviour {
    if (req.path !== `/${this.key}/postback`) return text("Incorrect postback code");
    const q = req.query;
    if (!q.subid) return text("Incorrect subid");
    const status = this.translate(q);
    if (status) this.record(q, status);
    else this.unplaced.push(q.status ?? "");
    return text(q.return || "Success");
  }

  private translate(q: Record<string, string>): KeitaroStatus | undefined {
    const word = (q.status ?? "lead").trim().toLowerCase();
    if (list(q.lead_status).includes(word)) return "lead";
    if (list(q.sale_status).includes(word)) return "sale";
    if (list(q.rejected_status).includes(word)) return "rejected";
    return (["lead", "sale", "rejected", "rebill"] as const).find((s) => s === word);
  }

  private record(q: Record<string, string>, status: KeitaroStatus) {
    const existing = this.conversions.get(q.subid!);
    if (!existing) {
      this.conversions.set(q.subid!, { subid: q.subid!, status, payout: q.payout ?? "", currency: q.currency ?? "", tid: q.tid ?? "", asked: [status] });
      return;
    }
    existing.asked.push(status);
    if (KEITARO_MOVES[existing.status].includes(status)) {
      existing.status = status;
      if (q.payout) existing.payout = q.payout;
      if (q.currency) existing.currency = q.currency;
    }
  }
}

export interface CompatibleConversion {
  subid: string;
  status: KeitaroStatus;
  /** As stored: an empty `payout=` is kept as "" (the reference); a missing one becomes "0". */
  payout: string;
  currency: string;
  tid: string;
  /** The statuses the conversion took, in order (the ones it ignored are not here). */
  history: KeitaroStatus[];
  /** Statuses it was sent and ignored (a move it does not make). */
  ignored: KeitaroStatus[];
}

/** Moves the Keitaro-compatible tracker makes (the reference's three, and rejected→sale as seen in issue 24). */
const COMPATIBLE_MOVES: Record<KeitaroStatus, KeitaroStatus[]> = { lead: ["sale", "rejected"], sale: ["rejected"], rejected: ["sale"], rebill: [] };

const html = (body: string, status = 200): Behaviour => ({ status, body, headers: { "content-type": "text/html; charset=UTF-8" } });

/**
 * A self-hosted tracker with Keitaro's route and parameters (reference: "Keitaro-compatible
 * self-hosted trackers"): `GET /{key}/postback?subid&status&payout&currency&tid` plus Keitaro's
 * `lead_status`, `sale_status`, `rejected_status`. Unlike Keitaro it answers with HTTP statuses:
 * 200 `Postback recorded successfully.` (text/html), 400 `Missing subid.`, 400 `Ignored: Missing
 * status.`, 404 `Click ID not found in database.` (a click it never saw: `clicks` lists the ones
 * its traffic created), 500 `Internal error.` (`failWithInternalError`). Any other path — a wrong
 * key — lands on its HTML admin login page with 200, a CSRF token inside. It stores empty
 * `payout=` / `currency=` as empty strings; leaving them out gives "0" and its default currency.
 * A status word it cannot place is recorded as given in `unplaced` and answered as a success
 * (the reference does not say; the simplest reading).
 *
 * Each click keeps one conversion whose status moves as the reference says Keitaro's does
 * (lead→sale, lead→rejected, sale→rejected; a late `lead` after a decision is ignored), and — as
 * issue 24 saw a real one do, its own database read back — rejected→sale: a sale sent after a
 * rejection counts the conversion again. An ignored status is still answered as recorded (200).
 */
export class FakeKeitaroCompatible extends ContractTracker {
  readonly conversions = new Map<string, CompatibleConversion>();
  readonly unplaced: string[] = [];
  readonly clicks: Set<string>;
  /** The token its login page carries: it must never end up in a stored reason. */
  readonly csrfToken = "csrf-7f1c2e9a4b6d8e0f1a2b3c4d5e6f7a8b";
  failWithInternalError = false;

  private constructor(readonly key: string, clicks: string[], readonly defaultCurrency: string) {
    super();
    this.clicks = new Set(clicks);
  }

  static async start(opts: { key?: string; clicks?: string[]; defaultCurrency?: string } = {}): Promise<FakeKeitaroCompatible> {
    return new FakeKeitaroCompatible(opts.key ?? "3f9a1c", opts.clicks ?? [], opts.defaultCurrency ?? "USD").listen();
  }

  /** The admin login page a wrong key path lands on (status 200). */
  get loginPage(): string {
    return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in · Tracker admin</title><meta name="csrf-token" content="${this.csrfToken}"></head>
<body><form method="post" action="/admin/login"><input type="hidden" name="_csrf" value="${this.csrfToken}">
<input name="login" placeholder="Login"><input name="password" type="password"><button>Sign in</button></form></body>
</html>`;
  }

  protected answer(req: Received): Behaviour {
    if (req.path !== `/${this.key}/postback`) return html(this.loginPage);
    if (this.failWithInternalError) return html("Internal error.", 500);
    const q = req.query;
    if (!q.subid) return html("Missing subid.", 400);
    if (q.status === undefined || q.status === "") return html("Ignored: Missing status.", 400);
    if (!this.clicks.has(q.subid)) return html("Click ID not found in database.", 404);
    const word = q.status.trim().toLowerCase();
    const status = list(q.lead_status).includes(word) ? "lead"
      : list(q.sale_status).includes(word) ? "sale"
      : list(q.rejected_status).includes(word) ? "rejected"
      : (["lead", "sale", "rejected", "rebill"] as const).find((s) => s === word);
    if (!status) {
      this.unplaced.push(q.status);
      return html("Postback recorded successfully.");
    }
    const prev = this.conversions.get(q.subid);
    if (prev && !COMPATIBLE_MOVES[prev.status].includes(status)) {
      prev.ignored.push(status);
      return html("Postback recorded successfully.");
    }
    this.conversions.set(q.subid, {
      subid: q.subid, status,
      payout: q.payout ?? "0", currency: q.currency ?? this.defaultCurrency, tid: q.tid ?? "",
      history: [...(prev?.history ?? []), status], ignored: prev?.ignored ?? [],
    });
    return html("Postback recorded successfully.");
  }
}
