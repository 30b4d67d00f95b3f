// The deploy kit as its README says to use it: the two nginx stages through `nginx -t` inside
// Debian's own nginx.conf (as on a fresh host), both Caddyfiles through `caddy validate`, the
// proxy files' words against what the service answers with the kit's config, the files a kit
// ships, and check-config refusing a webhook URL Telegram would refuse. nginx and caddy are
// Debian packages (.ci/run installs them); where one is missing its test is skipped, saying why.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { KIT_FILES } from "../../scripts/build.ts";
import { API_KEY } from "../helpers/service/config.ts";
import { startTestService } from "../helpers/service/in-process.ts";
import { REPO_ROOT, runCommand } from "../helpers/service/subprocess.ts";

const DEPLOY = join(REPO_ROOT, "deploy");
const dir = mkdtempSync(join(tmpdir(), "tgcpa-kit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const which = (tool: string) => Bun.which(tool);
const NGINX_MAIN = "/etc/nginx/nginx.conf";
const hasNginx = which("nginx") !== null && existsSync(NGINX_MAIN);
const hasCaddy = which("caddy") !== null;
if (!hasNginx) console.log("test/deploy/kit.test.ts: nginx tests skipped: nginx or /etc/nginx/nginx.conf is missing (apt-get install -y nginx)");
if (!hasCaddy) console.log("test/deploy/kit.test.ts: caddy tests skipped: caddy is missing (apt-get install -y caddy)");

const run = (cmd: string[]) => {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
};

/**
 * `nginx -t` of a site file as Debian's nginx loads it: its own /etc/nginx/nginx.conf, with the
 * sites-enabled include pointing at this one file (and the pid file in the temp folder).
 */
function nginxTest(site: string) {
  const d = mkdtempSync(join(dir, "nginx-"));
  writeFileSync(join(d, "site.conf"), site);
  const main = readFileSync(NGINX_MAIN, "utf8");
  expect(main).toContain("include /etc/nginx/sites-enabled/*;");
  writeFileSync(join(d, "nginx.conf"), main.replace("include /etc/nginx/sites-enabled/*;", `include ${d}/site.conf;`).replace(/^pid .*$/m, `pid ${d}/nginx.pid;`));
  return run(["nginx", "-t", "-c", join(d, "nginx.conf")]);
}

/** A certificate where certbot leaves one: a self-signed pair made with openssl. */
function certificate(): string {
  const d = mkdtempSync(join(dir, "cert-"));
  const r = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(d, "privkey.pem"), "-out", join(d, "fullchain.pem"), "-days", "1", "-subj", "/CN=tg.example.com"]);
  expect(r.code).toBe(0);
  return d;
}

const kitFile = (name: string) => readFileSync(join(DEPLOY, name), "utf8");

describe("nginx, in two stages", () => {
  test.skipIf(!hasNginx)("stage 1 (nginx-http.conf) passes nginx -t on a host without any certificate", () => {
    const r = nginxTest(kitFile("nginx-http.conf"));
    expect(r).toEqual({ code: 0, out: expect.stringContaining("test is successful") });
  });

  test.skipIf(!hasNginx)("stage 2 (nginx.conf) fails without the certificate, which is why stage 1 exists", () => {
    const r = nginxTest(kitFile("nginx.conf"));
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("/etc/letsencrypt/live/tg.example.com/fullchain.pem");
  });

  test.skipIf(!hasNginx)("stage 2 passes nginx -t once certbot's files exist; so does its locked-down form", () => {
    const certs = certificate();
    const site = kitFile("nginx.conf").replaceAll("/etc/letsencrypt/live/tg.example.com/", `${certs}/`);
    expect(nginxTest(site)).toEqual({ code: 0, out: expect.stringContaining("test is successful") });
    // The comment's lock-down: "return 404;" in place of the catch-all's proxy_pass.
    const catchAll = "    location / {\n        proxy_pass http://127.0.0.1:8080;\n    }\n}";
    expect(site).toContain(catchAll);
    const locked = site.replace(catchAll, "    location / {\n        return 404;\n    }\n}");
    expect(nginxTest(locked)).toEqual({ code: 0, out: expect.stringContaining("test is successful") });
  });
});

describe("Caddy", () => {
  for (const file of ["Caddyfile", "Caddyfile.lockdown"]) {
    test.skipIf(!hasCaddy)(`${file} passes caddy validate`, () => {
      const r = run(["caddy", "validate", "--config", join(DEPLOY, file), "--adapter", "caddyfile"]);
      expect({ code: r.code, valid: r.out.includes("Valid configuration") }).toEqual({ code: 0, valid: true });
    });
  }
});

describe("the proxy files' words", () => {
  test("with the kit's server config: /metrics needs the key (Bearer works), /swagger and /health are open, the API needs the key", async () => {
    const kit = parse(kitFile("tgcpa.yaml"));
    expect(kit.server.metrics_public).toBe(false);
    const svc = await startTestService({ server: { ...kit.server, port: 0 } });
    try {
      expect((await fetch(`${svc.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).status).toBe(200);
      expect((await fetch(`${svc.url}/swagger/json`)).status).toBe(200);
      expect((await fetch(`${svc.url}/health`)).status).toBe(200);
      expect((await fetch(`${svc.url}/api/leads`)).status).toBe(401);
    } finally {
      await svc.stop();
    }
    for (const file of ["nginx.conf", "Caddyfile"]) {
      const text = kitFile(file);
      expect(text).toContain("server.metrics_public: false");
      expect(text).toContain("/swagger");
      expect(text).not.toContain("(/api/, /swagger, /metrics) is protected by the API key");
    }
  });
});

describe("the kit", () => {
  test("ships every file the build puts in it, and the schema its tgcpa.yaml names", () => {
    for (const file of KIT_FILES) expect([file, existsSync(join(DEPLOY, file))]).toEqual([file, true]);
    const named = /\$schema=(\S+)/.exec(kitFile("tgcpa.yaml").split("\n")[0]!)?.[1];
    expect(named).toBe("tgcpa.schema.json");
    expect(KIT_FILES).toContain(named!);
    expect(kitFile(named!)).toBe(readFileSync(join(REPO_ROOT, "config/tgcpa.schema.json"), "utf8"));
  });
});

describe("check-config and webhook mode", () => {
  const check = async (publicUrl: string | null, bot: Record<string, unknown> = {}) => {
    const path = join(mkdtempSync(join(dir, "cfg-")), "tgcpa.yaml");
    const server = publicUrl === null ? "" : `server:\n  public_url: ${publicUrl}\n`;
    writeFileSync(path, `${server}api_keys: [k-0123456789abcdef0123456789abcdef]\nbots:\n  main: ${JSON.stringify({ token: "123:abc", mode: "webhook", ...bot })}\n`);
    const r = await runCommand(["check-config", path]);
    return { code: r.code, out: r.stdout + r.stderr };
  };

  test("refuses a public_url Telegram would refuse, naming server.public_url and its line", async () => {
    const http = await check("http://127.0.0.1:8080");
    expect(http.code).toBe(1);
    expect(http.out).toContain("server.public_url (line 2): Telegram sends webhooks over HTTPS only");
    const port = await check("https://tg.example.com:8080");
    expect(port.code).toBe(1);
    expect(port.out).toContain("server.public_url (line 2): Telegram sends webhooks only to ports 443, 80, 88, 8443, not 8080");
    const none = await check(null);
    expect(none.code).toBe(1);
    expect(none.out).toContain("bots.main.mode (line 3): webhook mode needs server.public_url");
  });

  test("accepts HTTPS on 443 or 8443, and any URL for a bot on a local Bot API server (api_root)", async () => {
    expect((await check("https://tg.example.com")).code).toBe(0);
    expect((await check("https://tg.example.com:8443")).code).toBe(0);
    expect((await check("http://127.0.0.1:8080", { api_root: "http://127.0.0.1:8081" })).code).toBe(0);
  });
});
