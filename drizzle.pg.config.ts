// drizzle-kit for the PostgreSQL schema: `npm run db:generate` writes db/migrations-pg beside
// SQLite's db/migrations (drizzle.config.ts); both are embedded by scripts/embed-migrations.ts.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/storage/postgres/schema.ts",
  out: "./db/migrations-pg",
});
