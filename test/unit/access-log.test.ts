import { describe, expect, test } from "bun:test";
import { redactedTarget } from "../../src/http/access-log.ts";

describe("redactedTarget: what the access log writes of a URL", () => {
  const cases: [string, string][] = [
    ["http://127.0.0.1:8080/health", "/health"],
    ["http://127.0.0.1:8080/api/leads?limit=5", "/api/leads?limit=5"],
    ["http://127.0.0.1:8080/api/leads?key=s3cret&limit=5", "/api/leads?key=[redacted]&limit=5"],
    ["http://h.example/api/postback?KEY=s3cret&click=abc", "/api/postback?KEY=[redacted]&click=abc"],
    ["http://h.example/x?token=a&access_token=b&api_secret=c&oauth_token=d&tokens=e", "/x?token=[redacted]&access_token=[redacted]&api_secret=[redacted]&oauth_token=[redacted]&tokens=e"],
    ["http://h.example/x?k%65y=s3cret", "/x?k%65y=[redacted]"], // an escaped name is the same name
    ["http://h.example/x?key", "/x?key=[redacted]"],
    ["http://h.example/x?%E0%A4%A=1&key=s", "/x?%E0%A4%A=1&key=[redacted]"], // a malformed escape elsewhere changes nothing
    ["http://h.example/x?key=a&key=b", "/x?key=[redacted]&key=[redacted]"],
  ];
  for (const [url, expected] of cases) test(url, () => expect(redactedTarget(url)).toBe(expected));
});
