DROP INDEX `postbacks_due`;--> statement-breakpoint
CREATE INDEX `postbacks_host_due` ON `postbacks` (`host`,`next_attempt_at`,`id`) WHERE state = 'pending';