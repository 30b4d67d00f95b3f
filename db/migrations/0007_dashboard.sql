CREATE TABLE `dashboard_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`key_check` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `lead_stats` (
	`campaign_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`status` text NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`leads` integer DEFAULT 0 NOT NULL,
	`postbacks` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `bucket`, `status`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `leads_username` ON `leads` ("username" COLLATE NOCASE) WHERE username <> '';--> statement-breakpoint
CREATE INDEX `postbacks_open` ON `postbacks` (`campaign_id`,`created_at`,`state`) WHERE channel = 'http' AND state <> 'delivered';--> statement-breakpoint
CREATE INDEX `postbacks_created` ON `postbacks` (`created_at`);--> statement-breakpoint
-- Counters for the events and postbacks already in the database (900000 ms = one 15-minute bucket).
-- A lead counts in `leads` at its first recorded event of a status. Delivered postbacks pruned
-- before this upgrade are gone and are not counted.
INSERT INTO `lead_stats` (`campaign_id`, `bucket`, `status`, `events`, `leads`, `postbacks`)
SELECT `campaign_id`, `bucket`, `status`, sum(`events`), sum(`leads`), sum(`postbacks`) FROM (
  SELECT e.`campaign_id`, e.`occurred_at` - e.`occurred_at` % 900000 AS `bucket`, e.`status`, 1 AS `events`,
    NOT EXISTS (SELECT 1 FROM `lead_events` p WHERE p.`lead_id` = e.`lead_id` AND p.`status` = e.`status` AND p.`id` < e.`id`) AS `leads`,
    0 AS `postbacks`
  FROM `lead_events` e
  UNION ALL
  SELECT `campaign_id`, `created_at` - `created_at` % 900000, `status`, 0, 0, 1 FROM `postbacks` WHERE `channel` = 'http'
) GROUP BY `campaign_id`, `bucket`, `status`;--> statement-breakpoint
-- All-time totals per campaign and status live in bucket -1 (read by GET /api/campaigns).
INSERT INTO `lead_stats` (`campaign_id`, `bucket`, `status`, `events`, `leads`, `postbacks`)
SELECT `campaign_id`, -1, `status`, sum(`events`), sum(`leads`), sum(`postbacks`) FROM `lead_stats` GROUP BY `campaign_id`, `status`;
