// storage.driver, storage.url and storage.pool_size as the config reads them: SQLite stays the
// default, postgres needs a postgres:// URL, and a refused URL is named by its YAML path and line
// but never repeated (it holds the password), neither by the reader nor by check-config.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import type { ConfigIssue } from "../../src/config/checker.ts";
import { processTestDir, runCommand } from "../helpers/service/subprocess.ts";

const SECRET = "pg-Secret-42";
const yaml = (...lines: string[]) => `api_keys: [k-0123456789abcdef0123456789abcdef]\n${lines.join("\n")}\n`;

function issuesOf(text: string, env: Record<string, string> = {}): ConfigIssue[] {
  try {
    parseConfig(text, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      expect(err.message).not.toContain(SECRET);
      return err.issues;
    }
    throw err;
  }
  throw new Error("expected a ConfigError, the config loaded");
}

describe("storage.driver, storage.url, storage.pool_size", () => {
  test("by default: SQLite, no URL, a pool of 10 (unused)", () => {
    expect(parseConfig(yaml(), {}).storage).toMatchObject({ driver: "sqlite", url: null, pool_size: 10 });
  });

  test("postgres with a URL from the environment and a pool size", () => {
    const config = parseConfig(yaml("storage:", "  driver: postgres", "  url: postgres://tgcpa:${PG_PASSWORD}@db.internal:5432/tgcpa", "  pool_size: 25"),
      { PG_PASSWORD: SECRET });
    expect(config.storage).toMatchObject({ driver: "postgres", url: `postgres://tgcpa:${SECRET}@db.internal:5432/tgcpa`, pool_size: 25 });
  });

  test.each([
    ["postgres without a URL", ["storage:", "  driver: postgres"],
      [{ path: "storage.url", message: "is required with storage.driver: postgres (postgres://USER:PASSWORD@HOST:5432/DATABASE)" }]],
    ["a URL of another scheme", ["storage:", "  driver: postgres", `  url: mysql://u:${SECRET}@h/db`],
      [{ path: "storage.url", line: 4, message: "must be a postgres:// or postgresql:// URL" }]],
    ["a URL without a host", ["storage:", "  driver: postgres", `  url: "postgres://:${SECRET}@/db"`],
      [{ path: "storage.url", line: 4, message: "is not a URL with a host, such as postgres://USER:PASSWORD@HOST:5432/DATABASE" }]],
    ["a driver that does not exist", ["storage: { driver: mysql }"], [{ path: "storage.driver", line: 2 }]],
    ["a pool of 0", ["storage: { pool_size: 0 }"], [{ path: "storage.pool_size", line: 2 }]],
    ["a pool of 5000", ["storage: { pool_size: 5000 }"], [{ path: "storage.pool_size", line: 2 }]],
  ])("%s: refused with its path", (_, lines, expected) => {
    const issues = issuesOf(yaml(...lines));
    expect(issues).toMatchObject(expected);
    expect(issues.length).toBe(expected.length);
  });

  test("a URL under the sqlite driver is kept but not required", () => {
    expect(parseConfig(yaml("storage: { url: 'postgres://u@h/db' }"), {}).storage).toMatchObject({ driver: "sqlite", url: "postgres://u@h/db" });
  });
});

describe("check-config", () => {
  const dir = processTestDir("storage-config");

  test("names the PostgreSQL database with its password hidden", async () => {
    const file = join(dir, "pg.yaml");
    writeFileSync(file, yaml("storage:", "  driver: postgres", `  url: postgres://tgcpa:${SECRET}@db.internal:5432/tgcpa`));
    const run = await runCommand(["check-config", file]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toBe(`${file}: ok (0 campaigns, 0 bots, database postgres://tgcpa:***@db.internal:5432/tgcpa)\n`);
  }, 30_000);

  test("a refused URL: its path and line, not its text", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, yaml("storage:", "  driver: postgres", `  url: "postgres://:${SECRET}@/db"`));
    const run = await runCommand(["check-config", file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("storage.url (line 4): is not a URL with a host");
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  }, 30_000);
});
