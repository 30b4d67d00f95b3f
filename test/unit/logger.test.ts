import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { createLogger, localIso, prettyLine, type LogFormat } from "../../src/lib/logger.ts";

const AT = "2026-05-01T11:03:07.123Z";

describe("prettyLine: one JSON record → one readable line", () => {
  const cases: { name: string; record: Record<string, unknown>; offset: number; line: string }[] = [
    {
      name: "local time with its offset, level name, message",
      record: { level: "info", time: AT, service: "tgcpa", msg: "tgcpa listening" },
      offset: 180,
      line: "2026-05-01T14:03:07.123+03:00 INFO  tgcpa listening",
    },
    {
      name: "UTC is written +00:00; a negative offset with minutes",
      record: { level: "warn", time: AT, msg: "x" },
      offset: -570,
      line: "2026-05-01T01:33:07.123-09:30 WARN  x",
    },
    {
      name: "component in brackets, other fields as key=value, strings quoted only when they need it",
      record: { level: "info", time: AT, service: "tgcpa", component: "db", msg: "database: 2 migration(s) applied", ms: 12, migrations: ["0003_a", "0004_b"], path: "/var/lib/tgcpa/tgcpa.db", note: "two words" },
      offset: 0,
      line: '2026-05-01T11:03:07.123+00:00 INFO  [db] database: 2 migration(s) applied ms=12 migrations=["0003_a","0004_b"] path=/var/lib/tgcpa/tgcpa.db note="two words"',
    },
    {
      name: "an error as its type and message (the stack stays in json)",
      record: { level: "error", time: AT, msg: "retention pruning failed", err: { type: "SQLiteError", message: "disk I/O error", stack: "SQLiteError: disk I/O error\n    at x" } },
      offset: 0,
      line: '2026-05-01T11:03:07.123+00:00 ERROR retention pruning failed err="SQLiteError: disk I/O error"',
    },
    {
      name: "a newline inside the message cannot start a second line",
      record: { level: "info", time: AT, msg: "line one\nline two" },
      offset: 0,
      line: "2026-05-01T11:03:07.123+00:00 INFO  line one\\nline two",
    },
    {
      name: "an epoch-ms time is read too",
      record: { level: "debug", time: Date.parse(AT), msg: "m", ok: true },
      offset: 60,
      line: "2026-05-01T12:03:07.123+01:00 DEBUG m ok=true",
    },
  ];
  test.each(cases)("$name", ({ record, offset, line }) => {
    expect(prettyLine(JSON.stringify(record), offset)).toBe(`${line}\n`);
  });

  test("a line that is not JSON passes through", () => {
    expect(prettyLine("not json", 0)).toBe("not json\n");
  });

  test("localIso keeps the instant: parsing it back gives the same time", () => {
    for (const offset of [-720, -210, 0, 330, 840]) {
      expect(Date.parse(localIso(new Date(AT), offset))).toBe(Date.parse(AT));
    }
  });
});

describe("createLogger", () => {
  function capture(format: LogFormat) {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    return { log: createLogger("info", sink, format), lines };
  }

  test("json: ISO time (UTC) and the level's name", () => {
    const { log, lines } = capture("json");
    log.child({ component: "http" }).warn({ port: 8080 }, "hello");
    const record = JSON.parse(lines[0]!);
    expect(record).toMatchObject({ level: "warn", service: "tgcpa", component: "http", port: 8080, msg: "hello" });
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(record.time) - Date.now())).toBeLessThan(60_000);
  });

  test.each(["json", "pretty"] as const)("%s: secrets are redacted before the line is written", (format) => {
    const { log, lines } = capture(format);
    log.info({ token: "123456:SECRETtokenPART", bot: { token: "123456:SECRETtokenPART", secret: "hook-secret-1" }, headers: { authorization: "Bearer api-key-1" } }, "bot config");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/SECRETtokenPART|hook-secret-1|api-key-1/);
    expect(lines[0]).toContain("[redacted]");
  });

  test("pretty: one line per event, in the pretty layout", () => {
    const { log, lines } = capture("pretty");
    log.info("first");
    log.child({ component: "dispatcher" }).error({ host: "trk.example.com" }, "second");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d INFO  first$/);
    expect(lines[1]).toMatch(/ ERROR \[dispatcher\] second host=trk\.example\.com$/);
  });
});
