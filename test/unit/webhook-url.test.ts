import { describe, expect, test } from "bun:test";
import { webhookUrlProblem } from "../../src/config/webhook-url.ts";

describe("webhookUrlProblem: what Telegram's setWebhook takes", () => {
  const cases: [string | null, string | null][] = [
    ["https://tg.example.com", null],
    ["https://tg.example.com:443", null],
    ["https://tg.example.com:8443", null],
    ["https://tg.example.com:88", null],
    ["https://tg.example.com:80", null],
    ["https://tg.example.com/base/path", null],
    ["https://[2001:db8::1]:8443", null],
    ["http://127.0.0.1:8080", "HTTPS only: http is refused"],
    ["http://tg.example.com", "HTTPS only: http is refused"],
    ["https://tg.example.com:8080", "only to ports 443, 80, 88, 8443, not 8080"],
    ["https://tg.example.com:444", "not 444"],
    [null, "webhook mode needs server.public_url"],
  ];
  for (const [url, expected] of cases) {
    test(`${url}`, () => {
      const problem = webhookUrlProblem(url);
      if (expected === null) expect(problem).toBeNull();
      else expect(problem).toContain(expected);
    });
  }
});
