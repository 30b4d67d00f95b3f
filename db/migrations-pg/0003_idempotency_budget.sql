ALTER TABLE "idempotency_keys" ADD COLUMN "client" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "spent" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "answer_hash" text;--> statement-breakpoint
CREATE INDEX "idempotency_keys_client" ON "idempotency_keys" USING btree ("client","spent");