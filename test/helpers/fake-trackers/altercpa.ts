// AlterCPA Pro (external sites) and AlterCPA One / Red / Lite (the tracker postback API).
import { ContractTracker, json, list } from "./contract-tracker.ts";
import type { Behaviour, Received } from "./recording-tracker.ts";

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
