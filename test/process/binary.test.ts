// The single binary as an operator runs it (README "Single binary", "Deploy on a VPS"): one build
// per file (scripts/build.ts, commit embedded), then the command line, paths, one instance per
// database, readable logs, the client address behind a proxy, and restore — each against the
// built executable in its own process, on real SQLite files, over 127.0.0.1.
import { Database } from "bun:sqlite";
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json";
import { renderMigrationsModule } from "../../scripts/embed-migrations.ts";
import { buildBinary } from "../../scripts/build.ts";
import { gitCommit } from "../../src/lib/version.ts";
import { freePort, rawHttp, rawRequest } from "../helpers/net.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { REPO_ROOT, processTestDir, runCommand, spawnService, type ServiceProcess } from "../helpers/service/subprocess.ts";
import { onPostgres, sqliteOnly } from "../helpers/service/database.ts";

const dir = processTestDir("bin");
const binary = join(dir, "tgcpa");
const COMMIT = gitCommit(REPO_ROOT) ?? "unknown";

beforeAll(() => buildBinary({ outfile: binary, commit: COMMIT }), 120_000);

/** Runs the binary to its end (killed after `timeoutMs`: a command that starts the service instead of answering fails). */
const run = (args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}) =>
  runCommand(args, { command: [binary], cwd: dir, timeoutMs: 15_000, ...opts });

/** A folder of its own per test, with the config the service helper will complete (host, port). */
const testDir = (name: string) => {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
};
const baseConfig = (extra: Record<string, unknown> = {}) => ({
  api_keys: [API_KEY], campaigns: [{ code: "bk", name: "bin" }], log: { level: "info" }, ...extra,
});
const startBinary = (d: string, config: Record<string, unknown>, extra: { cwd?: string; env?: Record<string, string | undefined> } = {}) =>
  spawnService({ dir: d, config, command: [binary], cwd: extra.cwd ?? d, env: extra.env });

const postLead = (s: ServiceProcess, subscriber: number) => s.api("POST", "/api/events", { campaign: "bk", subscriber, status: "wait", click: `c${subscriber}` });
const leadSubscribers = async (s: ServiceProcess) => ((await s.api("GET", "/api/leads?campaign=bk")).body.items as { subscriber: number }[]).map((l) => l.subscriber).sort();

describe("single binary", () => {
  test("the embedded migrations match db/migrations", () => {
    expect(readFileSync("src/storage/sqlite/migrations.generated.ts", "utf8")).toBe(renderMigrationsModule());
  });

  test("checks configs and runs from any directory; a clean stop on SIGTERM", async () => {
    const cwd = mkdtempSync(join(dir, "run-")); // no db/ or config/ here: the migrations must be inside the binary
    writeFileSync(join(cwd, "bad.yaml"), "api_keys: [k]\ncampaigns:\n  - code: a-b\n  - code: ok\n    postbacks: { approve: \"https://t.example/?c={clik}\" }\n");
    const bad = await run(["check-config", "bad.yaml"], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("campaigns[0].code (line 3)");
    expect(bad.stderr).toContain("campaigns[1].postbacks.approve (line 5): unknown macro {clik}");

    const good = { api_keys: [API_KEY], storage: { path: "data/t.db" }, campaigns: [{ code: "ok" }], log: { level: "warn" } };
    writeFileSync(join(cwd, "config.yaml"), JSON.stringify(good));
    expect((await run(["check-config", "config.yaml"], { cwd })).code).toBe(0);
    const s = await startBinary(cwd, good, { cwd, env: { NODE_ENV: undefined } }); // the same file, with host and port added; no NODE_ENV
    try {
      const port = s.port;
      expect(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.json())).toMatchObject({ status: "ok", db: "ok" });
      const campaigns = (await fetch(`http://127.0.0.1:${port}/api/campaigns?key=${API_KEY}`).then((r) => r.json())) as { items: { code: string }[] };
      expect(campaigns.items.map((c: { code: string }) => c.code)).toEqual(["ok"]);
      // Production without any environment variable: the body that made the error handler throw and
      // the runtime answer with its development page (stack, paths, source lines) is a plain 422.
      const deep = await fetch(`http://127.0.0.1:${port}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: `{"key":${"[".repeat(5000)}${"]".repeat(5000)}}` });
      expect(deep.status).toBe(422);
      expect(await deep.text()).not.toMatch(/\bat [\w.<>]+ \(|\.(ts|js):\d+|node_modules|<html|<!doctype/i);
      // The dashboard and Swagger UI come out of the executable, byte for byte, with no node_modules here.
      const served: [string, string][] = [
        ["/dashboard", "src/dashboard/assets/index.html"],
        ["/", "src/dashboard/assets/index.html"],
        ["/dashboard/assets/app.client.js", "src/dashboard/assets/app.client.js"],
        ["/dashboard/assets/style.css", "src/dashboard/assets/style.css"],
        ["/swagger/", "src/dashboard/assets/swagger.html"],
        ["/swagger/assets/swagger-ui-bundle.js", "node_modules/swagger-ui-dist/swagger-ui-bundle.js"],
        ["/swagger/assets/swagger-ui.css", "node_modules/swagger-ui-dist/swagger-ui.css"],
      ];
      for (const [path, file] of served) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        expect({ path, status: res.status, same: Buffer.from(await res.arrayBuffer()).equals(readFileSync(file)) }).toEqual({ path, status: 200, same: true });
      }
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 60_000);
});

describe("command line", () => {
  test("--version and version print the version and the commit the binary was built from, and start nothing", async () => {
    const expected = `tgcpa ${pkg.version} (commit ${COMMIT}, bun ${Bun.version})\n`;
    expect(COMMIT).toMatch(/^[0-9a-f]{12}(-dirty)?$/); // the test runs in a git checkout
    for (const args of [["--version"], ["-V"], ["version"]]) {
      expect(await run(args)).toEqual({ code: 0, stdout: expected, stderr: "" });
    }
  });

  test("--help lists every command and option", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const usage of ["serve", "check-config [FILE]", "config-schema", "backup FILE", "restore FILE", "version"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${usage.replace(/[[\]]/g, "\\$&")}  `, "m"));
    }
    for (const option of ["-c, --config FILE", "-h, --help", "-V, --version"]) expect(help.stdout).toContain(option);
  });

  test("config-schema prints the config's JSON Schema, the one kept in config/tgcpa.schema.json", async () => {
    expect(await run(["config-schema"], { cwd: mkdtempSync(join(dir, "schema-")) })).toEqual({ code: 0, stdout: readFileSync(join(REPO_ROOT, "config/tgcpa.schema.json"), "utf8"), stderr: "" });
    expect((await run(["config-schema", "extra"])).code).toBe(2);
  });

  test("an unknown option or command exits 2 naming it, and starts nothing", async () => {
    const cases: [string[], string][] = [
      [["--conifg", "x.yaml"], "unknown option --conifg"],
      [["serve", "--prot", "80"], "unknown option --prot"],
      [["srve"], 'unknown command "srve"'],
      [["bogus", "--help"], 'unknown command "bogus"'],
      [["backup"], "backup needs FILE"],
      [["restore", "a.db", "b.db"], 'unexpected argument "b.db"'],
      [["--config"], "--config needs a value"],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(r.stderr).toStartWith(`tgcpa: ${message}`);
    }
  });
});

describe("paths", () => {
  sqliteOnly("storage.path, the SQLite file")("a relative storage.path is taken from the config file's folder, whatever the working directory", async () => {
    const d = testDir("relative");
    const elsewhere = testDir("relative-cwd");
    const s = await startBinary(d, baseConfig({ storage: { path: "data/t.db" } }), { cwd: elsewhere });
    try {
      expect((await postLead(s, 1)).status).toBe(200);
      expect(existsSync(join(d, "data", "t.db"))).toBe(true);
      expect(readdirSync(elsewhere)).toEqual([]);
      // json, the default format: ISO times and level names; the start line names the database and the commit
      const started = s.output().split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((r) => r.msg === "tgcpa listening");
      expect(started).toMatchObject({ level: "info", db: join(d, "data", "t.db"), version: pkg.version, commit: COMMIT });
      expect(started.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    const check = await run(["check-config", join(d, "config.yaml")], { cwd: elsewhere });
    expect(check.stdout).toContain(`database ${join(d, "data", "t.db")}`);
  }, 60_000);
});

describe("one process per database", () => {
  sqliteOnly("the SQLite file's instance lock; PostgreSQL takes several instances (test/cluster)")("a second process on the same database exits 1 naming the file and the first one's pid; the first keeps serving; after its kill -9 a new one starts", async () => {
    const d = testDir("twice");
    const db = join(d, "tgcpa.db");
    const first = await startBinary(d, baseConfig({ storage: { path: db } }));
    const secondPort = await freePort();
    writeFileSync(join(d, "second.yaml"), JSON.stringify({ ...baseConfig({ storage: { path: db } }), server: { host: "127.0.0.1", port: secondPort } }));
    const second = await run(["--config", join(d, "second.yaml")]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`database ${db} is in use by another tgcpa process (pid ${first.pid})`);
    expect(await fetch(`http://127.0.0.1:${secondPort}/health`).catch(() => null)).toBeNull();
    expect((await first.api("GET", "/health")).status).toBe(200);
    expect((await postLead(first, 1)).status).toBe(200);

    // Another database on the same port: the port is not shared (no SO_REUSEPORT), the start fails.
    writeFileSync(join(d, "port.yaml"), JSON.stringify({ ...baseConfig({ storage: { path: join(d, "other.db") } }), server: { host: "127.0.0.1", port: first.port } }));
    const samePort = await run(["--config", join(d, "port.yaml")]);
    expect(samePort.code).toBe(1);
    expect(samePort.stderr).toMatch(/port .*in use|EADDRINUSE/i);
    expect((await postLead(first, 2)).status).toBe(200);
    expect(await leadSubscribers(first)).toEqual([1, 2]);

    await first.kill(); // kill -9: the kernel drops the lock
    const again = await startBinary(d, baseConfig({ storage: { path: db } }));
    try {
      expect(await leadSubscribers(again)).toEqual([1, 2]);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  }, 60_000);
});

describe("log.format: pretty", () => {
  test("one readable line per event: local ISO time with its offset, level name; migrations with their time; secrets redacted", async () => {
    const d = testDir("pretty");
    const token = "777777:DeadApiRootSecret_zxcvbnm";
    const deadPort = await freePort(); // nothing listens: the bot's getMe fails and is logged
    const s = await startBinary(d, baseConfig({
      storage: { path: join(d, "tgcpa.db") },
      log: { level: "debug", format: "pretty" },
      bots: { main: { token, api_root: `http://127.0.0.1:${deadPort}` } },
    }), { env: { TZ: "Asia/Kolkata" } });
    expect((await postLead(s, 1)).status).toBe(200);
    expect(await s.stop()).toBe(0);
    const lines = s.output().split("\n").filter(Boolean);
    const layout = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+05:30 (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;
    expect(lines.filter((l) => !layout.test(l))).toEqual([]);
    // A new SQLite file is migrated at this start; a test's PostgreSQL database is a clone of a migrated template.
    if (!onPostgres) expect(lines.some((l) => /INFO  \[db\] database: \d+ migration\(s\) applied migrations=\["0000_init".*\] ms=\d+$/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes(` INFO  tgcpa listening version=${pkg.version} commit=${COMMIT} `))).toBe(true);
    expect(lines.some((l) => l.includes("[telegram]"))).toBe(true); // the dead Bot API was logged…
    expect(s.output()).not.toContain(token.split(":")[1]!); // …without the token
    expect(lines.at(-1)).toMatch(/ INFO  tgcpa stopped$/);
  }, 60_000);
});

/** A GET over a socket bound to `from` (a loopback address other than 127.0.0.1 is another peer); the status. */
const getFrom = async (from: string, port: number, path: string, headers: Record<string, string>) =>
  (await rawHttp(port, rawRequest("GET", path, { Host: "127.0.0.1", ...headers }), { from })).status;

describe("server.trusted_proxies", () => {
  test("from a trusted proxy each forwarded client has its own rate-limit bucket and is logged; a forged header from another peer is ignored", async () => {
    const d = testDir("proxies");
    const s = await startBinary(d, baseConfig({
      storage: { path: join(d, "tgcpa.db") },
      server: { trusted_proxies: ["127.0.0.1"] },
      inbound_keys: ["inbound-key-1-0123456789abcdef0123456789abcdef"],
      rate_limits: { inbound_per_minute: 3 },
    }));
    try {
      const postback = (from: string, xff: string) => getFrom(from, s.port, "/api/postback?key=inbound-key-1-0123456789abcdef0123456789abcdef&click=nope&status=approve", { "X-Forwarded-For": xff });
      const statuses = async (from: string, xffs: string[]) => {
        const out: number[] = [];
        for (const xff of xffs) out.push(await postback(from, xff));
        return out;
      };
      // Through the proxy (127.0.0.1): 203.0.113.10 uses up its 3, 203.0.113.11 still has its own.
      expect(await statuses("127.0.0.1", ["203.0.113.10", "203.0.113.10", "203.0.113.10", "203.0.113.10"])).toEqual([404, 404, 404, 429]);
      expect(await statuses("127.0.0.1", ["198.51.100.1, 203.0.113.11"])).toEqual([404]); // the client's own claim on the left is not believed
      // Straight from 127.0.0.2, not a proxy: each request names another client, all share its one bucket.
      expect(await statuses("127.0.0.2", ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"])).toEqual([404, 404, 404, 429]);

      const log = (await s.api("GET", "/api/postback-log?limit=50")).body.items as { ip: string }[];
      expect(log.map((r) => r.ip).sort()).toEqual(["127.0.0.2", "127.0.0.2", "127.0.0.2", "203.0.113.10", "203.0.113.10", "203.0.113.10", "203.0.113.11"]);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 60_000);
});

describe("restore", () => {
  sqliteOnly("tgcpa backup and restore copy the SQLite file; on PostgreSQL they refuse (test/storage/pg-engine.test.ts)")("a backup taken while running is restored once the service is stopped; refused while it runs and for a file that is no backup", async () => {
    const d = testDir("restore");
    const db = join(d, "tgcpa.db");
    const config = baseConfig({ storage: { path: db } });
    const backupFile = join(d, "backups", "before-2.db");
    const s = await startBinary(d, config);
    expect((await postLead(s, 1)).status).toBe(200);
    const backup = await run(["backup", backupFile, "--config", s.configPath]);
    expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: "" });
    expect(backup.stdout).toMatch(/^backup: copy written in \d+ ms; checking its integrity$/m);
    expect(backup.stdout).toContain("1 leads, integrity ok");
    expect((await postLead(s, 2)).status).toBe(200);

    const whileRunning = await run(["restore", backupFile, "--config", s.configPath]);
    expect(whileRunning.code).toBe(1);
    expect(whileRunning.stderr).toContain(`in use by another tgcpa process (pid ${s.pid})`);
    expect(await leadSubscribers(s)).toEqual([1, 2]);
    expect(await s.stop()).toBe(0);

    writeFileSync(join(d, "junk.db"), "this is not a database, but it is long enough to have a header of one hundred bytes or so......");
    const junk = await run(["restore", join(d, "junk.db"), "--config", s.configPath]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain("is not a readable SQLite database");
    expect(readdirSync(d).filter((f) => f.includes("before-restore"))).toEqual([]);

    const restore = await run(["restore", backupFile, "--config", s.configPath]);
    expect({ code: restore.code, stderr: restore.stderr }).toEqual({ code: 0, stderr: "" });
    expect(restore.stdout).toContain(`restore: ${backupFile}: integrity ok, schema tgcpa's, 1 leads`);
    expect(restore.stdout).toContain(`restored ${db} from ${backupFile}`);
    // The old database is kept beside it and still opens, with the lead the backup did not have.
    const aside = readdirSync(d).find((f) => /^tgcpa\.db\.before-restore-\d{8}T\d{6}Z$/.test(f));
    expect(aside).toBeDefined();
    const old = new Database(join(d, aside!), { readonly: true });
    try {
      expect((old.query("SELECT subscriber FROM leads ORDER BY subscriber").all() as { subscriber: number }[]).map((r) => r.subscriber)).toEqual([1, 2]);
    } finally {
      old.close();
    }

    const after = await startBinary(d, config);
    try {
      expect(await leadSubscribers(after)).toEqual([1]);
      expect((await postLead(after, 3)).status).toBe(200);
    } finally {
      expect(await after.stop()).toBe(0);
    }
  }, 60_000);
});
