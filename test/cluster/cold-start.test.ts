// Three instances cold-starting together on an empty database: the migrations are applied once
// (one applies them under the advisory lock, the others find nothing pending), and all three serve.
import { SQL } from "bun";
import { expect, test } from "bun:test";
import { embeddedMigrations, MIGRATIONS_TABLE } from "../../src/storage/postgres/migrate.ts";
import { createTestDatabase, describePostgres, dropTestDatabase } from "../helpers/postgres.ts";
import { spawnInstances } from "../helpers/service/instances.ts";
import { processTestDir, withServices } from "../helpers/service/subprocess.ts";

const dir = processTestDir("cold-start");

describePostgres("a cold start of several instances", () => {
  test("3 instances on an empty database at once: migrations applied once, all three healthy and listed", async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      await withServices("cold start", async () => {
        const all = await spawnInstances(3, { dir, db, together: true, config: { log: { level: "info" }, campaigns: [{ code: "c1" }] } });
        const applied = all.filter((s) => /migration\(s\) applied/.test(s.output()));
        expect(applied.length).toBe(1);
        expect(applied[0]!.output()).toContain(`applying ${embeddedMigrations().length} migration(s)`);
        for (const s of all) expect((await s.api("GET", "/health")).status).toBe(200);
        const listed = (await all[0]!.api("GET", "/api/instances")).body.items as { id: string; alive: boolean }[];
        expect(listed.length).toBe(3);
        expect(listed.every((i) => i.alive)).toBe(true);
        const sql = new SQL(db.url, { max: 1 });
        try {
          const tags = (await sql.unsafe(`SELECT tag FROM ${MIGRATIONS_TABLE} ORDER BY tag`) as { tag: string }[]).map((r) => r.tag);
          expect(tags).toEqual(embeddedMigrations().map((m) => m.tag).sort());
          expect((await sql`SELECT count(*)::int AS n FROM campaigns`)[0].n).toBe(1); // three syncs of one campaign: one row
        } finally {
          await sql.close();
        }
      });
    } finally {
      await dropTestDatabase(db);
    }
  }, 120_000);
});
