// What is kept of a tracker's answer (src/domain/stored-answer.ts): no HTML page, no token-shaped value.
import { describe, expect, test } from "bun:test";
import { ANSWER_HEAD_BYTES, isHtmlMarkup, redactTokens, storedAnswerHead } from "../../src/domain/stored-answer.ts";
import { answerWords } from "../../src/domain/verdict.ts";

const HEX32 = "7f1c2e9a4b6d8e0f1a2b3c4d5e6f7a8b";
const B64 = "dGhpcyBpcyBhIHNlc3Npb24gdG9rZW4gMTIzNDU2Nzg5MA";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXBhcnQ";

describe("redactTokens", () => {
  test.each([
    ["a CSRF meta tag's content", `<meta name="csrf-token" content="${HEX32}">`, `<meta name="csrf-token" content="***">`],
    ["a hidden _csrf input", `<input type="hidden" name="_csrf" value="abc12345xyz">`, `<input type="hidden" name="_csrf" value="***">`],
    ["token= in a query", "ok; next=/x?token=s3cr3t-value&a=1", "ok; next=/x?token=***&a=1"],
    ["a JSON api key", `{"status":"ok","apiKey":"k-abcdefgh123"}`, `{"status":"ok","apiKey":"***"}`],
    ["session: in a header-like line", "Session: 9f8e7d6c5b4a", "Session: ***"],
    ["a lone long hex run", `id ${HEX32} done`, "id *** done"],
    ["a lone long base64 run with letters and digits", `x ${B64} y`, "x *** y"],
    ["a JWT", `Bearer ${JWT}`, "Bearer ***"],
  ])("%s", (_, text, expected) => {
    expect(redactTokens(text)).toBe(expected);
  });

  test.each([
    ["a tracker's words", "Click ID not found in database."],
    ["Keitaro's refusal", "Incorrect postback code (e89bcbe)"],
    ["Success", "Success"],
    ["a short key value", "key=abc"],
    ["a long word without digits", "Postback_recorded_successfully_for_this_click_id_ok"],
    ["AlterCPA's JSON", `{"status":"error","error":"click"}`],
  ])("keeps %s", (_, text) => {
    expect(redactTokens(text)).toBe(text);
  });
});

describe("storedAnswerHead", () => {
  test.each([
    ["a document", `<!DOCTYPE html><html><head><meta name="csrf-token" content="${HEX32}"></head></html>`],
    ["a fragment without doctype", `<head><meta name="csrf-token" content="${HEX32}"></head>`],
    ["a login form", `Please sign in <form action="/login"><input name="_csrf" value="${HEX32}"></form>`],
    ["a page after a BOM and blanks", `\uFEFF  \n<html lang="en"><body>${HEX32}</body></html>`],
  ])("an HTML page (%s): its status line and a short reason only", (_, body) => {
    expect(isHtmlMarkup(body)).toBe(true);
    expect(storedAnswerHead(404, body)).toBe("HTTP 404: an HTML page, not stored (it may hold a session or CSRF token)");
  });

  test("a text answer: its first 1 KiB, tokens redacted before the cut", () => {
    expect(storedAnswerHead(200, "Postback recorded successfully.")).toBe("Postback recorded successfully.");
    const long = `${"a".repeat(ANSWER_HEAD_BYTES - 10)} token=${HEX32}`;
    const head = storedAnswerHead(200, long);
    expect(Buffer.byteLength(head)).toBeLessThanOrEqual(ANSWER_HEAD_BYTES);
    expect(head).not.toContain(HEX32.slice(0, 8));
  });

  test("a refusal's words carry no token either", () => {
    expect(answerWords(`Forbidden: bad token=${HEX32}`)).toBe("Forbidden: bad token=***");
    expect(answerWords(`<head><meta name="csrf-token" content="${HEX32}"></head>`)).toBeNull();
  });
});
