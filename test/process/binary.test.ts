import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderMigrationsModule } from "../../scripts/embed-migrations.ts";

const dir = mkdtempSync(join(tmpdir(), "tgcpa-bin-"));
const binary = join(dir, "tgcpa");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

describe("single binary", () => {
  test("the embedded migrations match db/migrations", () => {
    expect(readFileSync("src/db/migrations.generated.ts", "utf8")).toBe(renderMigrationsModule());
  });

  test("bun build --compile gives one executable that checks configs and runs from any directory", async () => {
    const build = Bun.spawnSync([process.execPath, "build", "--compile", "src/main.ts", "--outfile", binary], { stdout: "pipe", stderr: "pipe" });
    expect(build.exitCode).toBe(0);

    const cwd = mkdtempSync(join(dir, "run-")); // no db/ or config/ here: the migrations must be inside the binary
    writeFileSync(join(cwd, "bad.yaml"), "api_keys: [k]\ncampaigns:\n  - code: a-b\n  - code: ok\n    postbacks: { approve: \"https://t.example/?c={clik}\" }\n");
    const bad = Bun.spawnSync([binary, "check-config", "bad.yaml"], { cwd, stderr: "pipe", stdout: "pipe" });
    expect(bad.exitCode).toBe(1);
    const errors = bad.stderr.toString();
    expect(errors).toContain("campaigns[0].code (line 3)");
    expect(errors).toContain("campaigns[1].postbacks.approve (line 5): unknown macro {clik}");

    const port = await freePort();
    writeFileSync(join(cwd, "good.yaml"), `api_keys: [k]\nserver: { host: 127.0.0.1, port: ${port} }\nstorage: { path: data/t.db }\ncampaigns: [{ code: ok }]\nlog: { level: warn }\n`);
    expect(Bun.spawnSync([binary, "check-config", "good.yaml"], { cwd }).exitCode).toBe(0);
    const proc = Bun.spawn([binary, "--config", "good.yaml"], { cwd, stdout: "pipe", stderr: "pipe" });
    try {
      let health: Response | undefined;
      for (let i = 0; i < 200 && !health?.ok; i++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        if (!health?.ok) await Bun.sleep(25);
      }
      expect(await health!.json()).toMatchObject({ status: "ok", db: "ok" });
      const campaigns = (await fetch(`http://127.0.0.1:${port}/api/campaigns?key=k`).then((r) => r.json())) as { items: { code: string }[] };
      expect(campaigns.items.map((c: { code: string }) => c.code)).toEqual(["ok"]);
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
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0); // a clean stop on SIGTERM
  }, 120_000);
});
