ALTER TABLE `idempotency_keys` ADD `client` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `spent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `answer_hash` text;--> statement-breakpoint
CREATE INDEX `idempotency_keys_client` ON `idempotency_keys` (`client`,`spent`);