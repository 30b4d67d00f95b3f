// Fake Slack incoming webhooks and Discord webhooks on 127.0.0.1 (random port), answering as the
// real ones do. shared/reference has nothing on them; their words, statuses and limits are from
// Slack's "Improving error conditions for Incoming Webhooks" (api.slack.com changelog 2016-05-17)
// and Discord's "Execute Webhook" and rate-limit documentation:
// - Slack: POST /services/T…/B…/SECRET with JSON; 200 `ok` (text/plain); 400 `invalid_payload`
//   (not JSON), 400 `no_text` (no text), 404 `no_service` (a revoked or unknown URL), 410
//   `channel_is_archived`, 500 `rollup_error`.
// - Discord: POST /api/webhooks/ID/TOKEN with JSON; 204 without a body; 400
//   `{"message": "Cannot send an empty message", "code": 50006}` without content, 400
//   `{"message": "Invalid Form Body", "code": 50035, …}` for content over 2000 characters, 404
//   `{"message": "Unknown Webhook", "code": 10015}`; past 5 requests in 5 s per webhook, 429 with
//   `Retry-After` and `{"message": "You are being rate limited.", "retry_after": s, "global": false}`.

export interface ChatMessage {
  service: "slack" | "discord";
  path: string;
  body: any;
  text: string;
  at: number;
}

type Server = ReturnType<typeof Bun.serve>;

export class FakeChatWebhooks {
  /** Every request, accepted or not. */
  readonly requests: { path: string; status: number; body: string }[] = [];
  /** Messages accepted (posted to the channel). */
  readonly messages: ChatMessage[] = [];
  private server?: Server;
  private readonly discordSent: number[] = [];
  /** Webhooks revoked: Slack 404 no_service, Discord 404 Unknown Webhook. */
  readonly revoked = new Set<string>();
  /** The next N requests answer 500 rollup_error (Slack) / 502 (Discord), as an outage. */
  failNext = 0;

  static readonly SLACK_PATH = "/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX";
  static readonly DISCORD_PATH = "/api/webhooks/1234567890/webhook-token-abcdef";

  static async start(now: () => number = Date.now): Promise<FakeChatWebhooks> {
    const f = new FakeChatWebhooks();
    f.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => f.handle(req, now) });
    return f;
  }

  get base() {
    return `http://127.0.0.1:${this.server!.port}`;
  }

  get slackUrl() {
    return `${this.base}${FakeChatWebhooks.SLACK_PATH}`;
  }

  get discordUrl() {
    return `${this.base}${FakeChatWebhooks.DISCORD_PATH}`;
  }

  texts(service?: "slack" | "discord") {
    return this.messages.filter((m) => !service || m.service === service).map((m) => m.text);
  }

  private async handle(req: Request, now: () => number): Promise<Response> {
    const path = new URL(req.url).pathname;
    const raw = await req.text();
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      this.requests.push({ path, status, body: raw });
      return new Response(status === 204 ? null : body, { status, headers });
    };
    const text = (status: number, body: string) => answer(status, body, { "content-type": "text/plain" });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => answer(status, JSON.stringify(body), { "content-type": "application/json", ...headers });
    if (req.method !== "POST") return text(405, "invalid_method");
    if (path.startsWith("/services/")) {
      if (this.failNext > 0) return this.failNext--, text(500, "rollup_error");
      if (this.revoked.has(path) || path !== FakeChatWebhooks.SLACK_PATH) return text(404, "no_service");
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        return text(400, "invalid_payload");
      }
      if (typeof body?.text !== "string" || body.text === "") return text(400, "no_text");
      this.messages.push({ service: "slack", path, body, text: body.text, at: now() });
      return text(200, "ok");
    }
    if (path.startsWith("/api/webhooks/")) {
      if (this.failNext > 0) return this.failNext--, text(502, "Bad Gateway");
      if (this.revoked.has(path) || path !== FakeChatWebhooks.DISCORD_PATH) return json(404, { message: "Unknown Webhook", code: 10015 });
      const t = Date.now(); // Discord's limit is real time, whatever the service's clock
      while (this.discordSent.length && this.discordSent[0]! <= t - 5000) this.discordSent.shift();
      if (this.discordSent.length >= 5) {
        const wait = (this.discordSent[0]! + 5000 - t) / 1000;
        return json(429, { message: "You are being rate limited.", retry_after: wait, global: false }, { "retry-after": String(Math.ceil(wait)) });
      }
      this.discordSent.push(t);
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        return json(400, { message: "The request body contains invalid JSON.", code: 50109 });
      }
      if (typeof body?.content !== "string" || body.content === "") return json(400, { message: "Cannot send an empty message", code: 50006 });
      if (body.content.length > 2000) {
        return json(400, { message: "Invalid Form Body", code: 50035, errors: { content: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." }] } } });
      }
      this.messages.push({ service: "discord", path, body, text: body.content, at: now() });
      return answer(204, "");
    }
    return text(404, "Not Found");
  }

  async close() {
    await this.server?.stop(true);
  }
}
