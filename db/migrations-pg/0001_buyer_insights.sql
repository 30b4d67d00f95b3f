CREATE TABLE "campaign_costs" (
	"campaign_id" bigint NOT NULL,
	"day" text NOT NULL,
	"currency" text NOT NULL,
	"amount_micros" bigint NOT NULL,
	"source" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "campaign_costs_campaign_id_day_pk" PRIMARY KEY("campaign_id","day")
);
--> statement-breakpoint
CREATE TABLE "funnel_counts" (
	"campaign_id" bigint NOT NULL,
	"bucket" bigint NOT NULL,
	"variant" text DEFAULT '' NOT NULL,
	"band" text NOT NULL,
	"starts" integer DEFAULT 0 NOT NULL,
	"joins" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "funnel_counts_campaign_id_bucket_variant_band_pk" PRIMARY KEY("campaign_id","bucket","variant","band")
);
--> statement-breakpoint
CREATE TABLE "lead_profiles" (
	"lead_id" bigint PRIMARY KEY NOT NULL,
	"campaign_id" bigint NOT NULL,
	"premium" boolean,
	"language" text,
	"has_username" boolean,
	"started_at" bigint,
	"start_to_join_ms" bigint,
	"fast_leave" boolean DEFAULT false NOT NULL,
	"quality" integer NOT NULL,
	"quality_reasons" jsonb NOT NULL,
	"welcome_variant" text,
	"first_joined_at" bigint,
	"cohort_band" text,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_counts" (
	"campaign_id" bigint NOT NULL,
	"bucket" bigint NOT NULL,
	"variant" text DEFAULT '' NOT NULL,
	"band" text NOT NULL,
	"joined" integer DEFAULT 0 NOT NULL,
	"out_1d" integer DEFAULT 0 NOT NULL,
	"out_7d" integer DEFAULT 0 NOT NULL,
	"out_14d" integer DEFAULT 0 NOT NULL,
	"out_30d" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "retention_counts_campaign_id_bucket_variant_band_pk" PRIMARY KEY("campaign_id","bucket","variant","band")
);
--> statement-breakpoint
CREATE TABLE "revenue_counts" (
	"campaign_id" bigint NOT NULL,
	"bucket" bigint NOT NULL,
	"currency" text NOT NULL,
	"amount_micros" bigint DEFAULT 0 NOT NULL,
	"events" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "revenue_counts_campaign_id_bucket_currency_pk" PRIMARY KEY("campaign_id","bucket","currency")
);
