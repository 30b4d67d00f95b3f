/**
 * Fake trackers that answer like the real ones (shared/reference/trackers.md), built on FakeTracker:
 * each one records every request (`received`) and keeps the tracker-side state a test can inspect
 * (Keitaro conversions, AlterCPA leads, Binom conversions). Where the reference marks something
 * unverified, the fake takes the simplest reading and says so.
 *
 * `override(responder)` makes the tracker answer something else for a while (a 503, a hang); return
 * `undefined` from it to fall back to the contract.
 */
import { FakeTracker, type Behaviour, type Received } from "./fake-tracker.ts";

export type Override = (req: Received, index: number) => Behaviour | undefined;

const json = (value: unknown, status = 200): Behaviour => ({ status, body: JSON.stringify(value), headers: { "content-type": "application/json; charset=utf-8" } });
const text = (body: string, status = 200): Behaviour => ({ status, body, headers: { "content-type": "text/plain; charset=utf-8" } });

/** What every contract fake offers; `fake` is the underlying recorder. */
export abstract class ContractTracker {
  fake!: FakeTracker;
  private overrideFn: Override | null = null;

  protected abstract answer(req: Received): Behaviour;

  protected async listen(): Promise<this> {
    this.fake = await FakeTracker.start((req, i) => this.overrideFn?.(req, i) ?? this.answer(req));
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
    return this.fake.received.map((r) => `${r.method} ${r.url}`);
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

const list = (value: string | undefined) => (value ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);

// ---------------------------------------------------------------------------------------------
// Keitaro

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
  history: KeitaroStatus[];
}

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
    this.conversions.set(q.subid, {
      subid: q.subid, status,
      payout: q.payout ?? "0", currency: q.currency ?? this.defaultCurrency, tid: q.tid ?? "",
      history: [...(prev?.history ?? []), status],
    });
    return html("Postback recorded successfully.");
  }
}

// ---------------------------------------------------------------------------------------------
// AlterCPA

export interface AlterLead {
  id: number;
  click: string;
  /** Sender's lead id: `exto` (Pro) or `uid` (Lite). */
  ext: string;
  status: string;
  price: string;
  currency: string;
  history: string[];
}

abstract class AlterCpaBase extends ContractTracker {
  readonly leads = new Map<string, AlterLead>();
  private nextId = 1;

  protected constructor(readonly token: string) {
    super();
  }

  protected upsert(click: string, ext: string, status: string, price = "", currency = ""): AlterLead {
    const k = `${click}\u0000${ext}`;
    let lead = this.leads.get(k);
    if (!lead) {
      lead = { id: this.nextId++, click, ext, status, price, currency, history: [] };
      this.leads.set(k, lead);
    }
    lead.status = status;
    if (price) lead.price = price;
    if (currency) lead.currency = currency;
    lead.history.push(status);
    return lead;
  }

  protected find(click: string, ext: string) {
    return this.leads.get(`${click}\u0000${ext}`);
  }

  /** The lead for a click, whatever its ext (for assertions). */
  byClick(click: string) {
    return [...this.leads.values()].find((l) => l.click === click);
  }
}

const ALTER_STATUSES = ["hold", "approve", "cancel", "trash"];

/**
 * AlterCPA Pro, external sites: `GET /api/site/click.json?token&click&exto` creates the lead (wait),
 * `GET /api/site/status.json?token&click&status&auto=1&exto` moves it. Always HTTP 200 with JSON
 * `{"status":"ok","id":N}` or `{"status":"error","error":CODE}`: `token` (wrong token), `click`
 * (click empty), `status` (not hold/approve/cancel/trash), `lead` (unknown click+exto without
 * auto=1 — the reference leaves this unverified). An unknown path is a 404.
 */
export class FakeAlterCpaPro extends AlterCpaBase {
  static async start(opts: { token?: string } = {}): Promise<FakeAlterCpaPro> {
    return new FakeAlterCpaPro(opts.token ?? "12-5f3a9c").listen();
  }

  protected answer(req: Received): Behaviour {
    const q = req.query;
    if (req.path !== "/api/site/click.json" && req.path !== "/api/site/status.json") return json({ status: "error", error: "method" }, 404);
    if (q.token !== this.token) return json({ status: "error", error: "token" });
    if (!q.click) return json({ status: "error", error: "click" });
    const ext = q.exto ?? "";
    if (req.path === "/api/site/click.json") {
      const lead = this.find(q.click, ext) ?? this.upsert(q.click, ext, "wait");
      return json({ status: "ok", id: lead.id });
    }
    const status = (q.status ?? "").toLowerCase();
    if (!ALTER_STATUSES.includes(status)) return json({ status: "error", error: "status" });
    if (!this.find(q.click, ext) && q.auto !== "1") return json({ status: "error", error: "lead" });
    return json({ status: "ok", id: this.upsert(q.click, ext, status).id });
  }
}

const LITE_WORDS: Record<string, string> = { new: "new", hold: "hold", approve: "approve", cancel: "cancel", trash: "trash" };
const LITE_LISTS: [string, string][] = [["stn", "new"], ["sth", "hold"], ["sta", "approve"], ["stc", "cancel"], ["stt", "trash"]];

/**
 * AlterCPA One / Red / Lite tracker postback API: `GET {path}?id={token}&click&uid&status&price&currency`
 * (path `/api/track/postback.json` unless told). Always HTTP 200 with JSON `status: ok | error`:
 * `token` (wrong id), `click` (no click and no flow+subid), `status` (a word it cannot place; the
 * custom lists stn sth sta stc stt are honoured). Currency defaults to usd. An unknown path is a 404.
 */
export class FakeAlterCpaLite extends AlterCpaBase {
  private constructor(token: string, readonly path: string) {
    super(token);
  }

  static async start(opts: { token?: string; path?: string } = {}): Promise<FakeAlterCpaLite> {
    return new FakeAlterCpaLite(opts.token ?? "a1b2c3d4", opts.path ?? "/api/track/postback.json").listen();
  }

  protected answer(req: Received): Behaviour {
    const q = req.query;
    if (req.path !== this.path) return json({ status: "error", error: "method" }, 404);
    if (q.id !== this.token) return json({ status: "error", error: "token" });
    const click = q.click || (q.flow && q.subid ? `${q.flow}:${q.subid}` : "");
    if (!click) return json({ status: "error", error: "click" });
    const word = (q.status ?? "").trim().toLowerCase();
    const status = LITE_LISTS.find(([param]) => list(q[param]).includes(word))?.[1] ?? LITE_WORDS[word];
    if (!status) return json({ status: "error", error: "status" });
    const lead = this.upsert(click, q.uid ?? "", status, q.price ?? "", (q.currency || "usd").toLowerCase());
    return json({ status: "ok", id: lead.id });
  }
}

// ---------------------------------------------------------------------------------------------
// Binom

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

// ---------------------------------------------------------------------------------------------
// Trackers whose answer format is undocumented (Voluum, RedTrack, BeMob, PeerClick, ClickFlare)

/** Answers 200 with an empty body to anything: 2xx is all these trackers promise. */
export class FakeGenericTracker extends ContractTracker {
  static async start(): Promise<FakeGenericTracker> {
    return new FakeGenericTracker().listen();
  }

  protected answer(): Behaviour {
    return { status: 200, body: "" };
  }
}
