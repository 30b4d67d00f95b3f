CREATE TABLE `bot_leases` (
	`bot` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`epoch` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`acquired_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `circuits` (
	`host` text PRIMARY KEY NOT NULL,
	`open_until` integer NOT NULL,
	`failures` integer NOT NULL,
	`opened_by` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `instances` (
	`id` text PRIMARY KEY NOT NULL,
	`version` text NOT NULL,
	`commit` text,
	`config_hash` text NOT NULL,
	`hostname` text DEFAULT '' NOT NULL,
	`pid` integer NOT NULL,
	`started_at` integer NOT NULL,
	`heartbeat_at` integer NOT NULL
);
