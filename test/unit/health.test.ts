import { describe, expect, test } from "bun:test";
import { healthAnswer, storagePart, type HealthPart } from "../../src/ops/health.ts";

describe("healthAnswer: the worst part is the status; 503 only for error", () => {
  const ok: HealthPart = { level: "ok", fields: { db: "ok" } };
  const degraded: HealthPart = { level: "degraded", fields: { bots_down: ["main"] } };
  const error: HealthPart = { level: "error", fields: { storage: "unwritable" } };
  const cases: { name: string; parts: HealthPart[]; status: string; http: 200 | 503 }[] = [
    { name: "all ok", parts: [ok, ok], status: "ok", http: 200 },
    { name: "one degraded", parts: [ok, degraded], status: "degraded", http: 200 },
    { name: "one error", parts: [ok, error], status: "error", http: 503 },
    { name: "error beats degraded", parts: [degraded, error, ok], status: "error", http: 503 },
    { name: "no parts", parts: [], status: "ok", http: 200 },
  ];
  test.each(cases)("$name → $status ($http)", ({ parts, status, http }) => {
    const answer = healthAnswer(parts);
    expect(answer.httpStatus).toBe(http);
    expect(answer.body.status).toBe(status);
    for (const part of parts) expect(answer.body).toMatchObject(part.fields);
  });
});

describe("storagePart", () => {
  test("writable → ok", () => {
    expect(storagePart({ writable: true })).toEqual({ level: "ok", fields: { storage: "writable" } });
  });
  test("not writable → error, with the error and since when", () => {
    expect(storagePart({ writable: false, error: "database or disk is full", since: Date.UTC(2026, 0, 1) })).toEqual({
      level: "error",
      fields: { storage: "unwritable", storage_error: "database or disk is full", storage_unwritable_since: "2026-01-01T00:00:00.000Z" },
    });
  });
});
