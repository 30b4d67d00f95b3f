CREATE TABLE `inbound_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`result` text NOT NULL,
	`lead_id` integer,
	`status` text,
	`params` text NOT NULL,
	`ip` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `inbound_log_created` ON `inbound_log` (`created_at`);--> statement-breakpoint
CREATE INDEX `inbound_log_result` ON `inbound_log` (`result`,`id`);--> statement-breakpoint
ALTER TABLE `lead_events` ADD `payout` text;--> statement-breakpoint
ALTER TABLE `lead_events` ADD `currency` text;--> statement-breakpoint
ALTER TABLE `postbacks` ADD `verdict` text;