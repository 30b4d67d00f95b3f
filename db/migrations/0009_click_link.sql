CREATE TABLE `click_stats` (
	`campaign_id` integer NOT NULL,
	`param` text NOT NULL,
	`span` integer NOT NULL,
	`bucket` integer NOT NULL,
	`value` text NOT NULL,
	`status` text NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`leads` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `param`, `span`, `bucket`, `value`, `status`)
);
--> statement-breakpoint
CREATE TABLE `clicks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`token` text NOT NULL,
	`campaign_id` integer NOT NULL,
	`params` text NOT NULL,
	`fbc` text,
	`fbp` text,
	`ip` text,
	`user_agent` text,
	`referrer` text,
	`landing_url` text,
	`cut` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `clicks_token` ON `clicks` (`token`);--> statement-breakpoint
CREATE INDEX `clicks_created` ON `clicks` (`created_at`);--> statement-breakpoint
ALTER TABLE `leads` ADD `click_id` integer;--> statement-breakpoint
CREATE INDEX `leads_click_id` ON `leads` (`click_id`) WHERE click_id IS NOT NULL;