CREATE TABLE "bot_leases" (
	"bot" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"epoch" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"acquired_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "circuits" (
	"host" text PRIMARY KEY NOT NULL,
	"open_until" bigint NOT NULL,
	"failures" bigint NOT NULL,
	"opened_by" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" text PRIMARY KEY NOT NULL,
	"version" text NOT NULL,
	"commit" text,
	"config_hash" text NOT NULL,
	"hostname" text DEFAULT '' NOT NULL,
	"pid" bigint NOT NULL,
	"started_at" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clicks" ALTER COLUMN "params" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "inbound_log" ALTER COLUMN "params" SET DATA TYPE json;