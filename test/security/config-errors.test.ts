// Broken YAML and invalid values: every problem is named with its path and line, `tgcpa check-config`
// and POST /api/config/reload report the same list, and a refused reload keeps the running config.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { API_KEY, testConfig, type ConfigInput } from "../helpers/service/config.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { runCommand } from "../helpers/service/subprocess.ts";

const UNSET = "TGCPA_SECURITY_TEST_SURELY_UNSET_VAR";

let tracker: RecordingTracker;
let svc: TestService;
let good: ConfigInput;

beforeAll(async () => {
  tracker = await RecordingTracker.start();
  const overrides = {
    postbacks: { wait: `${tracker.base}/old?c={click}&s={status}` },
    campaigns: [{ code: "c1" }, { code: "c2" }],
  };
  svc = await startTestService(overrides);
  good = testConfig(svc.dir, overrides);
}, 30_000);

afterAll(async () => {
  await svc?.stop();
  await tracker?.close();
});

/** One issue as both tools print it: `path (line N): message`. */
const format = (i: { path: string; line?: number; message: string }) => `${i.path || "(root)"}${i.line ? ` (line ${i.line})` : ""}: ${i.message}`;

/** Runs `bun src/main.ts check-config FILE` and returns its exit code and the issues it listed. */
async function checkConfig(file: string) {
  const p = await runCommand(["check-config", file], { env: { [UNSET]: undefined } });
  const issues = p.stderr.split("\n").filter((l) => l.startsWith("  - ")).map((l) => l.slice(4));
  return { ...p, issues };
}

/** Writes the text as the service's config file and asks it to reload. */
async function reload(text: string) {
  writeFileSync(svc.configPath, text);
  return svc.api("POST", "/api/config/reload");
}

/** The same text checked by both tools: their lists of issues. */
async function both(name: string, text: string) {
  const file = join(svc.dir, `${name}.yaml`);
  writeFileSync(file, text);
  const cli = await checkConfig(file);
  const res = await reload(text);
  return { cli, res, fromReload: ((res.body?.error?.details ?? []) as { path: string; line?: number; message: string }[]).map(format) };
}

const storage = () => `storage: { path: "${join(svc.dir, "tgcpa.db")}" }`;

describe("broken YAML", () => {
  const cases: [string, () => string, number][] = [
    ["tab indentation", () => `api_keys: ["${API_KEY}"]\n${storage()}\nserver:\n\tport: 1\n`, 4],
    ["unclosed flow sequence", () => `${storage()}\napi_keys: ["${API_KEY}"\ncampaigns: []\n`, 3],
    ["duplicate key", () => `${storage()}\napi_keys: ["${API_KEY}"]\napi_keys: ["other"]\n`, 3],
    ["unterminated quoted string (reported where the parser gives up: the end of the file)", () => `${storage()}\napi_keys: ["${API_KEY}"]\naccount_id: "open\n`, 4],
    ["misindented keys under a sequence item", () => `${storage()}\napi_keys: ["${API_KEY}"]\ncampaigns:\n  - code: a\n     bot: b\n   chat: 1\n`, 4],
  ];
  for (const [name, text, line] of cases) {
    test(`${name}: both tools name line ${line} and list the same issues`, async () => {
      const { cli, res, fromReload } = await both(name.replace(/\W+/g, "-"), text());
      expect(cli.code).toBe(1);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("invalid_config");
      expect(cli.issues.length).toBeGreaterThan(0);
      expect(cli.issues).toEqual(fromReload);
      expect(cli.issues.some((i) => i.includes(`(line ${line})`) && i.includes("YAML"))).toBe(true);
      for (const issue of cli.issues) expect(issue).toMatch(/\(line \d+\)/);
    }, 20_000);
  }
});

describe("invalid values", () => {
  const text = () => `api_keys: ["${API_KEY}"]
${storage()}
delivery:
  timeout_ms: 50
  jitter: 3
  allow_hosts: ["10.0.0.0/99"]
  retry_ladder: [0s, soon]
rate_limits: { inbound_per_minute: -1 }
bots:
  main: { token: "nope" }
destinations:
  kt: { preset: nosuch, domain: a.example }
campaigns:
  - code: ok1
    postbacks:
      approve: "https://x.example/pb?c={clik}"
  - code: "b-c"
    unsub_window: forever
    bot: ghost
  - code: ok1
    colour: red
log: { level: loud }
inbound_keys: ["\${${UNSET}}"]
`;
  const EXPECTED: [string, number][] = [
    ["delivery.timeout_ms", 4],
    ["delivery.jitter", 5],
    ["delivery.allow_hosts[0]", 6],
    ["delivery.retry_ladder[1]", 7],
    ["rate_limits.inbound_per_minute", 8],
    ["bots.main.token", 10],
    ["destinations.kt.preset", 12],
    ["campaigns[0].postbacks.approve", 16],
    ["campaigns[1].code", 17],
    ["campaigns[1].unsub_window", 18],
    ["campaigns[1].bot", 19],
    ["campaigns[2].code", 20],
    ["campaigns[2].colour", 21],
    ["log.level", 22],
    ["inbound_keys[0]", 23],
  ];

  test("every problem is reported at once, each with its path and line, by both tools alike", async () => {
    const { cli, res, fromReload } = await both("values", text());
    expect(cli.code).toBe(1);
    expect(res.status).toBe(422);
    expect(cli.issues).toEqual(fromReload);
    const byPath = new Map(res.body.error.details.map((d: { path: string; line?: number }) => [d.path, d.line]));
    for (const [path, line] of EXPECTED) expect({ path, line: byPath.get(path) }).toEqual({ path, line });
    expect(res.body.error.details.length).toBe(EXPECTED.length);
    expect(cli.issues.find((i) => i.startsWith("campaigns[0].postbacks.approve"))).toContain("{clik}");
    expect(cli.issues.find((i) => i.startsWith("inbound_keys[0]"))).toContain(UNSET);
    expect(cli.issues.find((i) => i.startsWith("campaigns[2].code"))).toContain("campaigns[0]");
  }, 20_000);

  test("a config that is not a mapping, an empty one and an unreadable file are reported by both", async () => {
    for (const [name, body] of [["scalar", "just a string\n"], ["list", "- a\n- b\n"], ["empty", ""], ["nul", "\u0000\n"]] as const) {
      const { cli, res, fromReload } = await both(`shape-${name}`, body);
      expect({ name, code: cli.code, status: res.status }).toEqual({ name, code: 1, status: 422 });
      expect(cli.issues).toEqual(fromReload);
      expect(cli.issues.length).toBeGreaterThan(0);
    }
    const missing = await checkConfig(join(svc.dir, "does-not-exist.yaml"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read file");
  }, 30_000);
});

describe("a refused reload keeps the running config", () => {
  const sendEvent = async (sub: number) => {
    const res = await svc.api("POST", "/api/events", { campaign: "c1", subscriber: sub, status: "wait", click: `k${sub}` });
    expect(res.status).toBe(200);
    await tracker.waitUntil((rs) => rs.some((r) => r.query.c === `k${sub}`), 5000, `postback of ${sub}`);
    return tracker.received.find((r) => r.query.c === `k${sub}`)!.path;
  };

  test("after invalid values or broken YAML, events still use the old templates, keys and campaigns", async () => {
    svc.writeConfig(good);
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
    expect(await sendEvent(1)).toBe("/old");

    const newTemplate = `${tracker.base}/new?c={click}&s={status}`;
    // valid YAML, new template and key, but one invalid value elsewhere
    const bad = { ...good, api_keys: ["a-new-key-only-0123456789abcdef0123456789"], postbacks: { wait: newTemplate }, campaigns: [{ code: "c1" }, { code: "c3", unsub_window: "forever" }] };
    svc.writeConfig(bad);
    const refused = await svc.api("POST", "/api/config/reload");
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual(["campaigns[1].unsub_window"]);
    expect(await sendEvent(2)).toBe("/old");
    const campaigns = await svc.api("GET", "/api/campaigns");
    expect(campaigns.body.items.map((c: { code: string }) => c.code)).toEqual(["c1", "c2"]);
    expect(campaigns.body.items[0].templates.wait[0].url).toContain("/old?");
    expect((await fetch(`${svc.url}/api/leads`, { headers: { authorization: "Bearer a-new-key-only-0123456789abcdef0123456789" } })).status).toBe(401);

    // broken YAML
    writeFileSync(svc.configPath, `api_keys: ["a-new-key-only-0123456789abcdef0123456789"]\npostbacks: { wait: "${newTemplate}"\n`);
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(422);
    expect(await sendEvent(3)).toBe("/old");

    // the same change without the error is applied: the old template was kept only because of the refusal
    svc.writeConfig({ ...bad, api_keys: [API_KEY], campaigns: [{ code: "c1" }, { code: "c3" }] });
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
    expect(await sendEvent(4)).toBe("/new");
    svc.writeConfig(good);
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
  }, 30_000);
});

describe("fixed bugs stay fixed", () => {
  test("an unresolved YAML alias or an alias bomb is reported with its line by check-config and reload (422)", async () => {
    const bomb = [`api_keys: ["${API_KEY}"]`, storage(), `a: &a ["x","x","x","x","x","x","x","x","x"]`];
    for (const [n, p] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"]]) bomb.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(",")}]`);
    const cases: [string, string][] = [
      ["unresolved-alias", `api_keys: ["${API_KEY}"]\n${storage()}\ncampaigns: *nope\n`],
      ["alias-bomb", `${bomb.join("\n")}\n`],
    ];
    const results = [];
    for (const [name, text] of cases) {
      const { cli, res } = await both(name, text);
      results.push({ name, code: cli.code, named: cli.issues.some((i) => /\(line \d+\)/.test(i)), crashed: cli.stderr.includes("failed to start") || cli.stdout.includes("failed to start"), status: res.status });
    }
    svc.writeConfig(good);
    expect(results).toEqual(cases.map(([name]) => ({ name, code: 1, named: true, crashed: false, status: 422 })));
  }, 30_000);

  test("a config over 5 MB is refused before it is parsed: at start, by check-config and by reload (the running config kept)", async () => {
    const big = `api_keys: ["${API_KEY}"]\n${storage()}\ncampaigns: [{ code: c1 }, { code: c2 }]\n# ${"x".repeat(5 * 1024 * 1024)}\n`;
    const broken = `api_keys: [\n${"#".repeat(6 * 1024 * 1024)}`; // broken YAML too: the size is what is reported
    for (const [name, text] of [["big", big], ["big-broken", broken]] as const) {
      const { cli, res, fromReload } = await both(name, text);
      expect({ name, code: cli.code, status: res.status }).toEqual({ name, code: 1, status: 422 });
      expect(cli.issues).toEqual(fromReload);
      expect(cli.issues).toEqual([expect.stringMatching(/^\(root\): the file is \d+ bytes; a config may be at most 5 MB/)]);
      const file = join(svc.dir, `${name}.yaml`);
      expect(() => loadConfigFile(file, {})).toThrow(/at most 5 MB/); // what startService calls first
    }
    // a device with no end is read only up to the limit
    expect(() => loadConfigFile("/dev/zero", {})).toThrow(/larger than 5242880 bytes; a config may be at most 5 MB/);
    // just under the limit is read and parsed as usual
    const under = join(svc.dir, "under.yaml");
    writeFileSync(under, big.slice(0, 5 * 1024 * 1024 - 2) + "\n");
    expect(loadConfigFile(under, {}).campaigns.map((c) => c.code)).toEqual(["c1", "c2"]);
    svc.writeConfig(good);
    expect((await svc.api("POST", "/api/config/reload")).status).toBe(200);
  }, 30_000);

  test("a bot named __proto__ is either refused or kept, never silently dropped", async () => {
    const file = join(svc.dir, "proto-bot.yaml");
    writeFileSync(file, `api_keys: ["${API_KEY}"]\nbots:\n  __proto__: { token: "123:abc" }\ncampaigns:\n  - { code: c1, bot: __proto__ }\n`);
    const cli = await checkConfig(file);
    expect(cli.code === 1 || cli.stdout.includes("1 bots")).toBe(true);
  }, 20_000);
});
