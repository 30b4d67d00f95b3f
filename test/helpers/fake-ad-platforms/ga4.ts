// GA4's Measurement Protocol on 127.0.0.1 (shared/reference/ad-platforms.md §3): /mp/collect answers
// 2xx to every request that arrives, malformed ones included, with no body (204: unverified, the
// simplest reading); /debug/mp/collect answers {"validationMessages": […]} and records nothing, and
// does not check api_secret. A request's `client_id`, events and api_secret are recorded.
import { ContractTracker, json } from "../fake-trackers/contract-tracker.ts";
import type { Behaviour, Received } from "../fake-trackers/recording-tracker.ts";

export interface Ga4Request {
  measurement_id: string;
  api_secret: string;
  client_id?: string;
  user_id?: string;
  timestamp_micros?: number;
  events: { name: string; params?: Record<string, unknown> }[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

export class FakeGa4 extends ContractTracker {
  /** Requests that /mp/collect recorded (whatever they held: GA4 does not say). */
  readonly collected: Ga4Request[] = [];
  /** Requests the validation endpoint checked. */
  readonly validated: Ga4Request[] = [];

  static start() {
    return new FakeGa4().listen();
  }

  protected answer(req: Received): Behaviour {
    if (req.method !== "POST") return { status: 405, body: "" };
    let body: Partial<Ga4Request> = {};
    try {
      body = JSON.parse(req.body);
    } catch { /* malformed: /mp/collect takes it all the same */ }
    const request = { measurement_id: req.query.measurement_id ?? "", api_secret: req.query.api_secret ?? "", ...body, events: body.events ?? [] };
    if (req.path === "/mp/collect") {
      this.collected.push(request);
      return { status: 204, body: "" };
    }
    if (req.path === "/debug/mp/collect") {
      this.validated.push(request);
      const messages: { fieldPath: string; description: string; validationCode: string }[] = [];
      if (!body.client_id) messages.push({ fieldPath: "client_id", description: "Measurement requires a client_id.", validationCode: "VALUE_REQUIRED" });
      request.events.forEach((e, i) => {
        if (!NAME.test(e.name ?? "")) {
          messages.push({ fieldPath: "events", description: `Event at index: [${i}] has invalid name [${e.name}]. Names must start with an alphabetic character.`, validationCode: "NAME_INVALID" });
        }
      });
      if (request.events.length > 25) messages.push({ fieldPath: "events", description: "Measurement has more than 25 events.", validationCode: "EXCEEDED_MAX_ENTITIES" });
      return json({ validationMessages: messages });
    }
    return { status: 404, body: "" };
  }
}
