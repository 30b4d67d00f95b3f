// TikTok's Events API 2.0 on 127.0.0.1 (shared/reference/ad-platforms.md §2): POST
// /open_api/v1.3/event/track/ with `Access-Token: <token>` (no Bearer). Every answer is HTTP 200
// with a `code`: 0 "OK" is success; 40001 no permission, 40002 a parameter problem, 40100 "Too many
// requests", 40105 "Access token is incorrect or has been revoked" (those four are third-party
// material: the codes' exact texts for /event/track/ are unverified, the fake uses these words).
import { ContractTracker, json } from "../fake-trackers/contract-tracker.ts";
import type { Behaviour, Received } from "../fake-trackers/recording-tracker.ts";

export const TIKTOK_ERRORS = {
  no_permission: { code: 40001, message: "No permission to operate pixel code" },
  bad_parameter: { code: 40002, message: "data[0].event_time: Missing data for required field." },
  too_many_requests: { code: 40100, message: "Too many requests. Please retry in some time." },
  token_revoked: { code: 40105, message: "Access token is incorrect or has been revoked." },
} as const;
export type TikTokErrorName = keyof typeof TIKTOK_ERRORS;

export interface TikTokReceivedEvent {
  event: string;
  event_time: number;
  event_id?: string;
  user?: Record<string, unknown>;
  page?: { url: string; referrer?: string };
  properties?: Record<string, unknown>;
}

export class FakeTikTokEvents extends ContractTracker {
  readonly events: (TikTokReceivedEvent & { test_event_code?: string })[] = [];
  failWith: TikTokErrorName | null = null;
  private requests = 0;

  private constructor(public token: string, readonly pixelCode: string) {
    super();
  }

  static start(opts: { token: string; pixelCode: string }) {
    return new FakeTikTokEvents(opts.token, opts.pixelCode).listen();
  }

  private reply(code: number, message: string): Behaviour {
    return json({ code, message, request_id: `2026120801${String(++this.requests).padStart(6, "0")}`, data: {} });
  }

  protected answer(req: Received): Behaviour {
    if (req.method !== "POST" || req.path !== "/open_api/v1.3/event/track/") return { status: 404, body: "404 page not found" };
    if (req.headers["access-token"] !== this.token) return this.reply(TIKTOK_ERRORS.token_revoked.code, TIKTOK_ERRORS.token_revoked.message);
    if (this.failWith) return this.reply(TIKTOK_ERRORS[this.failWith].code, TIKTOK_ERRORS[this.failWith].message);
    let body: { event_source?: string; event_source_id?: string; test_event_code?: string; data?: TikTokReceivedEvent[] };
    try {
      body = JSON.parse(req.body);
    } catch {
      return this.reply(40002, "Invalid JSON");
    }
    if (!["web", "app", "offline", "crm"].includes(body.event_source ?? "")) return this.reply(40002, "event_source: Missing data for required field.");
    if (body.event_source_id !== this.pixelCode) return this.reply(TIKTOK_ERRORS.no_permission.code, TIKTOK_ERRORS.no_permission.message);
    if (!Array.isArray(body.data) || body.data.length === 0 || body.data.length > 1000) return this.reply(40002, "data: Length must be between 1 and 1000.");
    for (const [i, e] of body.data.entries()) {
      if (!e.event || typeof e.event_time !== "number") return this.reply(40002, `data[${i}].event_time: Missing data for required field.`);
      if (body.event_source === "web" && !e.page?.url) return this.reply(40002, `data[${i}].page.url: Missing data for required field.`);
    }
    for (const e of body.data) this.events.push({ ...e, ...(body.test_event_code ? { test_event_code: body.test_event_code } : {}) });
    return this.reply(0, "OK");
  }
}
