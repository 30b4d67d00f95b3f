// One "instance" for the concurrent-migration test: a process of its own that opens a pool on the
// database given in argv, says "ready", waits for "go" on stdin (so every instance asks for the
// migration lock at once), migrates, and prints one JSON line: what it applied and what it sees.
import { migratePostgres } from "../../src/storage/postgres/migrate.ts";
import { openPostgres } from "../../src/storage/postgres/connect.ts";

const [url] = process.argv.slice(2);
const pool = await openPostgres({ url: url!, pool_size: 2, application_name: "tgcpa_migrator_child" });
process.stdout.write("ready\n");
for await (const chunk of Bun.stdin.stream()) if (new TextDecoder().decode(chunk).includes("go")) break;
const result = await migratePostgres(pool.sql);
const tables = (await pool.sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`).map((r: { table_name: string }) => r.table_name);
process.stdout.write(`${JSON.stringify({ ...result, tables })}\n`);
await pool.close();
