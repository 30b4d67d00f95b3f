CREATE TABLE `bots` (
	`name` text PRIMARY KEY NOT NULL,
	`telegram_id` integer,
	`username` text,
	`polling_offset` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `chats` (
	`bot` text NOT NULL,
	`chat_id` integer NOT NULL,
	`title` text DEFAULT '' NOT NULL,
	`type` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`rights` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`bot`, `chat_id`)
);
--> statement-breakpoint
CREATE TABLE `invite_links` (
	`bot` text NOT NULL,
	`campaign_id` integer NOT NULL,
	`link` text NOT NULL,
	`creates_join_request` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`bot`, `campaign_id`)
);
--> statement-breakpoint
CREATE TABLE `media_cache` (
	`bot` text NOT NULL,
	`path` text NOT NULL,
	`file_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`bot`, `path`)
);
--> statement-breakpoint
CREATE TABLE `processed_updates` (
	`bot` text NOT NULL,
	`update_id` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`bot`, `update_id`)
);
--> statement-breakpoint
CREATE INDEX `processed_updates_created` ON `processed_updates` (`created_at`);--> statement-breakpoint
ALTER TABLE `postbacks` ADD `channel` text DEFAULT 'http' NOT NULL;