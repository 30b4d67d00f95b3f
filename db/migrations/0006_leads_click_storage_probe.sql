CREATE TABLE `storage_probe` (
	`id` integer PRIMARY KEY NOT NULL,
	`written_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `leads_click` ON `leads` (`click`);