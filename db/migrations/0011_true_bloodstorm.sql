CREATE TABLE `alert_incidents` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`key` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`state` text NOT NULL,
	`bad_since` integer NOT NULL,
	`good_since` integer,
	`fired_at` integer,
	`resolved_at` integer,
	`detail` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_incidents_key` ON `alert_incidents` (`key`,`id`);--> statement-breakpoint
CREATE INDEX `alert_incidents_updated` ON `alert_incidents` (`updated_at`);--> statement-breakpoint
ALTER TABLE `lead_events` ADD `invite_link` text;--> statement-breakpoint
ALTER TABLE `postbacks` ADD `earlier_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `leads_campaign_created` ON `leads` (`campaign_id`,`created_at`);