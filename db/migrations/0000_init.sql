CREATE TABLE `campaigns` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`code` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`bot` text,
	`chat_id` integer,
	`paused` integer DEFAULT false NOT NULL,
	`in_config` integer DEFAULT true NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaigns_code_unique` ON `campaigns` (`code`);--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`postback_id` integer NOT NULL,
	`attempt` integer NOT NULL,
	`started_at` integer NOT NULL,
	`duration_ms` integer NOT NULL,
	`url` text NOT NULL,
	`http_status` integer,
	`outcome` text NOT NULL,
	`error` text,
	`response_head` text
);
--> statement-breakpoint
CREATE INDEX `delivery_attempts_postback` ON `delivery_attempts` (`postback_id`,`id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`request_hash` text NOT NULL,
	`status_code` integer NOT NULL,
	`response` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `journal` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`campaign_id` integer,
	`subscriber` integer,
	`chat_id` integer,
	`detail` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `journal_kind_subscriber` ON `journal` (`kind`,`subscriber`,`created_at`);--> statement-breakpoint
CREATE INDEX `journal_created` ON `journal` (`created_at`);--> statement-breakpoint
CREATE TABLE `lead_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`lead_id` integer NOT NULL,
	`campaign_id` integer NOT NULL,
	`status` text NOT NULL,
	`prev_status` text,
	`source` text NOT NULL,
	`reason` text,
	`occurred_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`lead_id`) REFERENCES `leads`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `lead_events_lead` ON `lead_events` (`lead_id`,`id`);--> statement-breakpoint
CREATE INDEX `lead_events_campaign_time` ON `lead_events` (`campaign_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `leads` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` integer NOT NULL,
	`subscriber` integer NOT NULL,
	`click` text DEFAULT '' NOT NULL,
	`username` text DEFAULT '' NOT NULL,
	`chat_id` integer,
	`status` text NOT NULL,
	`joined_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `leads_campaign_subscriber` ON `leads` (`campaign_id`,`subscriber`);--> statement-breakpoint
CREATE INDEX `leads_campaign_click` ON `leads` (`campaign_id`,`click`);--> statement-breakpoint
CREATE INDEX `leads_created` ON `leads` (`created_at`);--> statement-breakpoint
CREATE TABLE `postbacks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`lead_id` integer NOT NULL,
	`event_id` integer NOT NULL,
	`campaign_id` integer NOT NULL,
	`status` text NOT NULL,
	`template` text NOT NULL,
	`method` text NOT NULL,
	`url` text NOT NULL,
	`body` text,
	`content_type` text,
	`host` text NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_token` integer DEFAULT 0 NOT NULL,
	`lease_expires_at` integer,
	`last_http_status` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `postbacks_due` ON `postbacks` (`next_attempt_at`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `postbacks_pending_order` ON `postbacks` (`lead_id`,`host`,`id`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `postbacks_state` ON `postbacks` (`state`,`id`);--> statement-breakpoint
CREATE INDEX `postbacks_campaign` ON `postbacks` (`campaign_id`,`id`);--> statement-breakpoint
CREATE INDEX `postbacks_host` ON `postbacks` (`host`,`id`);--> statement-breakpoint
CREATE INDEX `postbacks_event` ON `postbacks` (`event_id`);--> statement-breakpoint
CREATE INDEX `postbacks_finished` ON `postbacks` (`finished_at`) WHERE state = 'delivered';