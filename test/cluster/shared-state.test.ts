// What instances on one database share besides rows: a config reload on one reaches the others
// (each reloads its own file, told through LISTEN/NOTIFY), GET /api/instances lists each with its
// version, config hash and last heartbeat, and a tracker's circuit opened by one instance pauses
// that host on the other too.
import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { describePostgres, useTestDatabase } from "../helpers/postgres.ts";
import { spawnInstances } from "../helpers/service/instances.ts";
import { processTestDir, withServices, type ServiceProcess } from "../helpers/service/subprocess.ts";

let tracker: RecordingTracker | undefined;
const dir = processTestDir("shared-state", () => tracker?.close());

/** Rewrites a running instance's config file (its port and database kept). */
function editConfig(s: ServiceProcess, edit: (c: Record<string, any>) => void) {
  const config = JSON.parse(readFileSync(s.configPath, "utf8"));
  edit(config);
  writeFileSync(s.configPath, JSON.stringify(config, null, 2));
}

const instances = async (s: ServiceProcess) => (await s.api("GET", "/api/instances")).body.items as
  { id: string; version: string; config_hash: string; heartbeat_at: string; alive: boolean; self: boolean }[];

describePostgres("state shared between instances", () => {
  const db = useTestDatabase();

  test("a reload on one instance reaches the other; GET /api/instances shows each one's version, config hash and heartbeat", async () => {
    await withServices("reload", async () => {
      const [a, b] = await spawnInstances(2, { dir: `${dir}/reload`, db: db(), config: { log: { level: "info" }, campaigns: [{ code: "c1" }] } });
      const listed = await instances(a!);
      expect(listed.map((i) => i.self)).toEqual([true, false]);
      expect(listed.every((i) => i.alive && i.version.length > 0)).toBe(true);
      const firstBeat = Date.parse(listed[1]!.heartbeat_at);
      await eventually(async () => Date.parse((await instances(a!))[1]!.heartbeat_at) > firstBeat, 5000, "the next heartbeat");
      const hashes = listed.map((i) => i.config_hash);
      expect(hashes[0]).not.toBe(hashes[1]); // each file names its own port and folder

      for (const s of [a!, b!]) editConfig(s, (c) => c.campaigns.push({ code: "c2" }));
      expect((await a!.api("POST", "/api/config/reload")).status).toBe(200);
      const codes = async (s: ServiceProcess) => ((await s.api("GET", "/api/campaigns")).body.items as { code: string }[]).map((c) => c.code).sort();
      await eventually(async () => (await codes(b!)).join() === "c1,c2", 5000, "the other instance reloaded");
      expect(b!.output()).toContain('"told_by":"another instance"');
      await eventually(async () => {
        const now = await instances(b!);
        return now.every((i, k) => i.config_hash !== hashes[k]);
      }, 5000, "both new hashes in the instances table");
    });
  }, 60_000);

  test("a circuit opened by one instance pauses the host on the other", async () => {
    tracker = await RecordingTracker.start(() => ({ status: 503 }));
    const t = tracker;
    await withServices("circuit", async () => {
      const [a, b] = await spawnInstances(2, {
        dir: `${dir}/circuit`, db: db(),
        config: {
          log: { level: "info" }, postbacks: { wait: `${t.base}/pb?n={subscriber}` }, campaigns: [{ code: "c1" }],
          delivery: { circuit_failures: 2, circuit_cooldown: "1m", retry_ladder: ["0s", "1h"] },
        },
      });
      // Failures until one instance has seen two in a row and opens the circuit: the rows go to
      // whichever instance claims them first, so two events may give each instance one failure.
      const opener = async () => [a!, b!].find((s) => s.output().includes("circuit opened"));
      for (let n = 1; n <= 6 && !(await opener()); n++) {
        expect((await a!.api("POST", "/api/events", { campaign: "c1", subscriber: n, status: "wait", click: "x" })).status).toBe(200);
        await eventually(async () => t.received.length >= n || (await opener()) !== undefined, 5000, `attempt ${n}`);
      }
      await eventually(async () => (await opener()) !== undefined, 10_000, "a circuit opened");
      const other = (await opener()) === a ? b! : a!;
      // The other hears of it (a NOTIFY, or its next heartbeat at the latest) and sends nothing to the host either.
      await Bun.sleep(1500);
      const sent = t.received.length;
      for (const n of [13, 14, 15]) expect((await other.api("POST", "/api/events", { campaign: "c1", subscriber: n, status: "wait", click: "x" })).status).toBe(200);
      await Bun.sleep(2000);
      expect(t.received.length).toBe(sent);
      const pending = (await other.api("GET", "/api/postbacks?state=pending&limit=50")).body.items as { attempts: number; url: string }[];
      expect(pending.filter((p) => /n=1[345]$/.test(p.url)).map((p) => p.attempts)).toEqual([0, 0, 0]);
    });
  }, 60_000);
});
