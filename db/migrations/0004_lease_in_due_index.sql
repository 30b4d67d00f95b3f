DROP INDEX `postbacks_pending_order`;--> statement-breakpoint
DROP INDEX `postbacks_event`;--> statement-breakpoint
DROP INDEX `postbacks_leased`;--> statement-breakpoint
CREATE INDEX `postbacks_lead` ON `postbacks` (`lead_id`,`host`,`id`);--> statement-breakpoint
-- A claim now moves next_attempt_at to the lease expiry (the due index alone finds rows to recover):
-- rows leased by the process before this upgrade get the same.
UPDATE `postbacks` SET `next_attempt_at` = `lease_expires_at` WHERE `state` = 'pending' AND `lease_expires_at` > `next_attempt_at`;