CREATE TABLE `campaign_costs` (
	`campaign_id` integer NOT NULL,
	`day` text NOT NULL,
	`currency` text NOT NULL,
	`amount_micros` integer NOT NULL,
	`source` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`campaign_id`, `day`)
);
--> statement-breakpoint
CREATE TABLE `funnel_counts` (
	`campaign_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`variant` text DEFAULT '' NOT NULL,
	`band` text NOT NULL,
	`starts` integer DEFAULT 0 NOT NULL,
	`joins` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `bucket`, `variant`, `band`)
);
--> statement-breakpoint
CREATE TABLE `lead_profiles` (
	`lead_id` integer PRIMARY KEY NOT NULL,
	`campaign_id` integer NOT NULL,
	`premium` integer,
	`language` text,
	`has_username` integer,
	`started_at` integer,
	`start_to_join_ms` integer,
	`fast_leave` integer DEFAULT false NOT NULL,
	`quality` integer NOT NULL,
	`quality_reasons` text NOT NULL,
	`welcome_variant` text,
	`first_joined_at` integer,
	`cohort_band` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `retention_counts` (
	`campaign_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`variant` text DEFAULT '' NOT NULL,
	`band` text NOT NULL,
	`joined` integer DEFAULT 0 NOT NULL,
	`out_1d` integer DEFAULT 0 NOT NULL,
	`out_7d` integer DEFAULT 0 NOT NULL,
	`out_14d` integer DEFAULT 0 NOT NULL,
	`out_30d` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `bucket`, `variant`, `band`)
);
--> statement-breakpoint
CREATE TABLE `revenue_counts` (
	`campaign_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`currency` text NOT NULL,
	`amount_micros` integer DEFAULT 0 NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`campaign_id`, `bucket`, `currency`)
);
