// The install kit (deploy/): install.sh run twice into a temporary root with a real build of the
// binary, then the systemd unit checked by systemd-analyze. Needs root (useradd, chown), as on a
// server and in CI; systemd-analyze comes with Debian's systemd package (.ci/run installs it).
import { beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBinary } from "../../scripts/build.ts";
import { REPO_ROOT, processTestDir, runCommand } from "../helpers/service/subprocess.ts";

const INSTALL = join(REPO_ROOT, "deploy/install.sh");
const UNIT = join(REPO_ROOT, "deploy/tgcpa.service");
const isRoot = process.getuid?.() === 0;
const dir = processTestDir("deploy");
const binary = join(dir, "tgcpa");

beforeAll(() => buildBinary({ outfile: binary }), 120_000);

/** A root with just enough of /etc for useradd --root. */
function emptyRoot(): string {
  const root = mkdtempSync(join(dir, "root-"));
  mkdirSync(join(root, "etc"));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n", { mode: 0o640 });
  writeFileSync(join(root, "etc/gshadow"), "root:*::\n", { mode: 0o640 });
  return root;
}

function install(root: string, bin = binary) {
  const run = Bun.spawnSync(["bash", INSTALL, "--root", root, bin], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

const owner = (path: string) => {
  const s = statSync(path);
  return { uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8) };
};

describe("deploy/install.sh", () => {
  test.skipIf(!isRoot)("installs the binary, the user, the config and the unit into a root; a second run changes nothing", async () => {
    const root = emptyRoot();
    const first = install(root);
    expect({ code: first.code, err: first.err.replace(/useradd: Warning: missing or non-executable shell.*\n/, "") }).toEqual({ code: 0, err: "" });
    expect(first.out).toContain("created the system user tgcpa");
    expect(first.out).toContain("with a new API key");

    const passwd = readFileSync(join(root, "etc/passwd"), "utf8");
    const user = passwd.split("\n").find((l) => l.startsWith("tgcpa:"))!.split(":");
    const [uid, gid] = [Number(user[2]), Number(user[3])];
    expect(user.slice(5)).toEqual(["/var/lib/tgcpa", "/usr/sbin/nologin"]);
    expect(uid).toBeLessThan(1000); // a system user

    expect(readFileSync(join(root, "usr/local/bin/tgcpa")).equals(readFileSync(binary))).toBe(true);
    expect(owner(join(root, "usr/local/bin/tgcpa"))).toEqual({ uid: 0, gid: 0, mode: "755" });
    expect(readFileSync(join(root, "etc/systemd/system/tgcpa.service"), "utf8")).toBe(readFileSync(UNIT, "utf8"));
    // The schema the config's first line names, beside it, from the installed binary.
    expect(readFileSync(join(root, "etc/tgcpa/tgcpa.yaml"), "utf8").split("\n")[0]).toBe("# yaml-language-server: $schema=tgcpa.schema.json");
    expect(readFileSync(join(root, "etc/tgcpa/tgcpa.schema.json"), "utf8")).toBe(readFileSync(join(REPO_ROOT, "config/tgcpa.schema.json"), "utf8"));
    expect(owner(join(root, "etc/tgcpa/tgcpa.schema.json"))).toEqual({ uid: 0, gid: 0, mode: "644" });
    expect(owner(join(root, "var/lib/tgcpa"))).toEqual({ uid, gid, mode: "750" });
    // The config: readable by root and the service's group only, with a fresh key in place of the placeholder.
    const configPath = join(root, "etc/tgcpa/tgcpa.yaml");
    expect(owner(configPath)).toEqual({ uid: 0, gid, mode: "640" });
    expect(owner(join(root, "etc/tgcpa"))).toEqual({ uid: 0, gid, mode: "750" });
    const config = readFileSync(configPath, "utf8");
    const key = /api_keys: \["([0-9a-f]+)"\]/.exec(config)?.[1];
    expect(key).toHaveLength(48);
    expect(config).not.toContain("@API_KEY_GENERATED_BY_INSTALL_SH@");
    // …and the installed binary accepts it.
    const check = await runCommand(["check-config", configPath], { command: [join(root, "usr/local/bin/tgcpa")] });
    expect(check.stdout).toContain("ok (0 campaigns, 0 bots, database /var/lib/tgcpa/tgcpa.db)");

    // Twice: the same state, the operator's config (with their edits) kept.
    writeFileSync(configPath, `${config}# edited by the operator\n`);
    const second = install(root);
    expect({ code: second.code, err: second.err }).toEqual({ code: 0, err: "" });
    expect(second.out).toContain("user tgcpa exists");
    expect(second.out).toContain("is already this build");
    expect(second.out).toContain(`kept ${configPath}`);
    expect(second.out).toContain("tgcpa.service is up to date");
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).toBe(passwd);
    expect(readFileSync(configPath, "utf8")).toBe(`${config}# edited by the operator\n`);
  });

  test.skipIf(!isRoot)("--root into an empty folder refuses, naming what the root needs, and installs nothing", () => {
    const root = mkdtempSync(join(dir, "empty-"));
    const r = install(root);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`--root ${root} has no etc/passwd: the root must be a system's`);
    expect(readdirSync(root)).toEqual([]);
    const missing = install(join(dir, "no-such-root"));
    expect([missing.code, missing.err.trim()]).toEqual([1, `install.sh: --root ${join(dir, "no-such-root")}: no such directory`]);
  });

  test.skipIf(!isRoot)("the unit, as installed into a root, passes systemd-analyze verify there", () => {
    const root = emptyRoot();
    expect(install(root).code).toBe(0);
    // What any Debian system has and the test root lacks: systemd's own units (sysinit.target …) and kill (ExecReload).
    mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
    cpSync("/usr/lib/systemd/system", join(root, "usr/lib/systemd/system"), { recursive: true });
    mkdirSync(join(root, "usr/bin"), { recursive: true });
    cpSync("/usr/bin/kill", join(root, "usr/bin/kill"));
    if (!existsSync(join(root, "bin"))) symlinkSync("usr/bin", join(root, "bin"));
    const run = Bun.spawnSync(["systemd-analyze", "verify", `--root=${root}`, "/etc/systemd/system/tgcpa.service"], { stdout: "pipe", stderr: "pipe" });
    expect({ code: run.exitCode, out: run.stdout.toString() + run.stderr.toString() }).toEqual({ code: 0, out: "" });
  });

  test.skipIf(!isRoot)("refuses a file that is not a tgcpa binary, and installs nothing", () => {
    const root = emptyRoot();
    const fake = join(dir, "not-tgcpa");
    writeFileSync(fake, "#!/bin/sh\necho hello\n", { mode: 0o755 });
    const r = install(root, fake);
    expect(r.code).toBe(1);
    expect(r.err).toContain("is not tgcpa");
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).not.toContain("tgcpa");
  });
});

describe("deploy/tgcpa.service", () => {
  // verify also checks that ExecStart's program exists: the copy checked here points it at the
  // binary just built instead of /usr/local/bin/tgcpa; every other line is the shipped unit's.
  const checked = () => {
    const unitDir = mkdtempSync(join(dir, "unit-"));
    const path = join(unitDir, "tgcpa.service");
    writeFileSync(path, readFileSync(UNIT, "utf8").replaceAll("/usr/local/bin/tgcpa", binary));
    return path;
  };

  test("passes systemd-analyze verify", () => {
    const run = Bun.spawnSync(["systemd-analyze", "verify", checked()], { stdout: "pipe", stderr: "pipe" });
    expect({ code: run.exitCode, out: run.stdout.toString() + run.stderr.toString() }).toEqual({ code: 0, out: "" });
  });

  test("is hardened: systemd-analyze security rates its exposure OK (below 4 of 10)", () => {
    const run = Bun.spawnSync(["systemd-analyze", "security", "--offline=yes", "--no-pager", checked()], { stdout: "pipe", stderr: "pipe" });
    const score = /Overall exposure level for tgcpa\.service: ([\d.]+)/.exec(run.stdout.toString())?.[1];
    expect(Number(score)).toBeLessThan(4);
    for (const setting of ["NoNewPrivileges=", "ProtectSystem=", "PrivateTmp=", "CapabilityBoundingSet=~CAP_SYS_ADMIN"]) {
      expect(run.stdout.toString()).toMatch(new RegExp(`✓ ${setting.replace(/[~]/g, "\\$&")}`));
    }
  });
});
