// README "Backups": `tgcpa backup FILE` while the service runs under write load makes a copy that
// passes integrity_check; `tgcpa restore FILE` is refused while the service runs, and once it is
// stopped puts the copy in place, after which every lead committed before the backup started is
// found and the service runs on it. The backup refuses a target file that already exists (exit 1)
// and leaves that file alone.
import { Database } from "bun:sqlite";
import { sqliteOnly } from "../helpers/service/database.ts";
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RecordingTracker, ok } from "../helpers/fake-trackers/index.ts";
import { integrity } from "../helpers/db-inspect.ts";
import { eventually } from "../helpers/eventually.ts";
import { leadEvents, postEvent, type Ev } from "../helpers/idempotent-events.ts";
import { listPostbacks } from "../helpers/service/api-client.ts";
import { testConfig } from "../helpers/service/config.ts";
import { processTestDir, runCommand, spawnService, withServices } from "../helpers/service/subprocess.ts";

let tracker: RecordingTracker | undefined;
const dir = processTestDir("backup", () => tracker?.close());

/** `bun src/main.ts backup|restore FILE --config CONFIG`, as an operator would run it next to the service. */
const runBackup = (target: string, configPath: string, command: "backup" | "restore" = "backup") =>
  runCommand([command, target, "--config", configPath], { timeoutMs: 60_000 });

describe("online backup and restore (subprocess)", () => {
  sqliteOnly("tgcpa backup and restore copy the SQLite file; PostgreSQL is backed up with pg_dump")("a backup taken under write load is sound, and a restore from it has every lead committed before it", async () => {
    tracker = await RecordingTracker.start(() => ok(), { delayMs: 5 });
    const t = tracker;
    const dbPath = join(dir, "tgcpa.db");
    const target = join(dir, "backups", "copy.db");
    const pbUrl = `${t.base}/pb?click={click}&status={status}&event={event}`;
    const config = testConfig(dir, {
      log: { level: "warn" },
      storage: { path: dbPath },
      delivery: { timeout_ms: 2000, lease_ms: 3000, retry_ladder: ["0s", "200ms", "500ms", "1s"] },
      postbacks: { wait: pbUrl, approve: pbUrl },
      campaigns: [{ code: "bk", name: "backup" }],
    });
    const leads: [Ev, Ev][] = [];
    let stopping = false;
    let committed = 0;
    const clientErrors: unknown[] = [];
    await withServices("backup", async () => {
      const s = await spawnService({ dir, config });
      const client = async () => {
        while (!stopping) {
          const i = leads.length;
          leads.push(leadEvents("bk", "bk", i, 960_000));
          for (const ev of leads[i]!) {
            expect(await postEvent(s, ev, 1, () => false)).toBe(true);
            committed++;
          }
        }
      };
      const clients = Array.from({ length: 3 }, () => client().catch((err) => { clientErrors.push(err); }));
      await eventually(() => committed >= 300 || clientErrors.length > 0, 60_000, "300 events before the backup", 25);

      // ---- the backup, while the clients keep writing ----
      const before = leads.filter(([w]) => w.answer).map(([w]) => ({ id: w.answer!.leadId, subscriber: w.body.subscriber, key: w.key }));
      const committedAtStart = committed;
      const backup = await runBackup(target, s.configPath);
      const committedDuring = committed - committedAtStart;
      expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: "" });
      expect(backup.stdout).toContain("integrity ok");
      await eventually(() => committed >= committedAtStart + committedDuring + 50, 30_000, "writes going on after the backup", 25);
      stopping = true;
      await Promise.all(clients);
      expect(clientErrors).toEqual([]);

      // ---- a second backup to the same file is refused, and the file is left as it was ----
      const bytes = readFileSync(target);
      const refused = await runBackup(target, s.configPath);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("already exists");
      expect(readFileSync(target).equals(bytes)).toBe(true);

      // ---- restore is refused while the service runs, naming it; the database is left alone ----
      const busy = await runBackup(target, s.configPath, "restore");
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`in use by another tgcpa process (pid ${s.pid})`);
      expect(existsSync(`${dbPath}.restoring`)).toBe(false);

      await eventually(async () => (await listPostbacks(s, "&state=pending")).length === 0, 30_000, "the live service drained", 25);
      expect(await s.stop()).toBe(0);

      // ---- the copy: sound, a consistent snapshot, with every lead committed before it started ----
      const copy = new Database(target, { readonly: true });
      let copyLeads: number;
      try {
        expect(integrity(copy)).toBe("ok");
        const ids = new Map((copy.query("SELECT id, subscriber FROM leads").all() as { id: number; subscriber: number }[]).map((r) => [r.id, r.subscriber]));
        copyLeads = ids.size;
        expect(before.filter((l) => ids.get(l.id) !== l.subscriber).map((l) => l.key)).toEqual([]);
        // every event in the copy has its postback row and stored answer: no transaction is cut in half
        expect(copy.query("SELECT count(*) AS n FROM lead_events e WHERE (SELECT count(*) FROM postbacks p WHERE p.event_id = e.id) != 1").get()).toEqual({ n: 0 });
        expect(copy.query("SELECT (SELECT count(*) FROM lead_events) - (SELECT count(*) FROM idempotency_keys) AS n").get()).toEqual({ n: 0 });
      } finally {
        copy.close();
      }
      expect(backup.stdout).toContain(`${copyLeads} leads`);

      // ---- restore: stopped (done), `tgcpa restore`, start ----
      const restore = await runBackup(target, s.configPath, "restore");
      expect({ code: restore.code, stderr: restore.stderr }).toEqual({ code: 0, stderr: "" });
      expect(restore.stdout).toContain(`${copyLeads} leads`);
      const s2 = await spawnService({ dir, config });
      for (const l of before) {
        const res = await s2.api("GET", `/api/leads/${l.id}`);
        expect({ key: l.key, status: res.status, subscriber: res.body?.lead?.subscriber }).toEqual({ key: l.key, status: 200, subscriber: l.subscriber });
      }
      // the service runs on it: a new lead is recorded and its postback delivered
      const [fresh] = leadEvents("bk-after-restore", "bk", 0, 970_000);
      expect(await postEvent(s2, fresh, 2, () => false)).toBe(true);
      await t.waitUntil((r) => r.some((x) => x.answeredAt !== undefined && x.url.includes(`event=${fresh.answer!.eventId}`) && x.url.includes(fresh.body.click)), 30_000, "the new lead's postback");
      expect((await s2.api("GET", "/health")).status).toBe(200);
      expect(await s2.stop()).toBe(0);
      const restored = new Database(dbPath, { readonly: true });
      try {
        expect(integrity(restored)).toBe("ok");
      } finally {
        restored.close();
      }
      console.log(
        `backup: taken with ${before.length} leads committed before it (${committedAtStart} events), ${committedDuring} events committed while it ran; ` +
        `the copy holds ${copyLeads} leads; all ${before.length} found after the restore`,
      );
    });
  }, 90_000);

  sqliteOnly("tgcpa backup and restore copy the SQLite file; PostgreSQL is backed up with pg_dump")("a restore from a set left by a kill -9 (its last commits still in its -wal) installs every lead", async () => {
    const crashDir = join(dir, "crash");
    const dbPath = join(crashDir, "tgcpa.db");
    mkdirSync(crashDir, { recursive: true });
    const config = testConfig(crashDir, { log: { level: "warn" }, storage: { path: dbPath }, campaigns: [{ code: "kc", name: "crash" }] });
    await withServices("backup (crash set)", async () => {
      const s = await spawnService({ dir: crashDir, config });
      const events = Array.from({ length: 20 }, (_, i) => leadEvents("kc", "kc", i, 980_000)[0]!);
      for (const ev of events) expect(await postEvent(s, ev, 1, () => false)).toBe(true);
      await s.kill();
      // The set as an operator finds it after the crash, copied away: the file, its -wal and -shm.
      const set = join(dir, "crash-set.db");
      expect(existsSync(`${dbPath}-wal`)).toBe(true);
      for (const suffix of ["", "-wal", "-shm"]) if (existsSync(`${dbPath}${suffix}`)) copyFileSync(`${dbPath}${suffix}`, `${set}${suffix}`);
      const restore = await runBackup(set, s.configPath, "restore");
      expect({ code: restore.code, stderr: restore.stderr }).toEqual({ code: 0, stderr: "" });
      expect(restore.stdout).toContain("20 leads");
      const restored = new Database(dbPath, { readonly: true });
      try {
        expect(integrity(restored)).toBe("ok");
        expect(restored.query("SELECT count(*) AS n FROM leads").get()).toEqual({ n: 20 });
      } finally {
        restored.close();
      }
      expect(existsSync(`${dbPath}-wal`)).toBe(false); // the restored file holds everything itself
    });
  }, 60_000);
});
