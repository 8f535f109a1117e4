CREATE TABLE `job_log_usage` (
	`job_id` text PRIMARY KEY NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`lines` integer DEFAULT 0 NOT NULL,
	`capped` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `siws_nonces_address_idx` ON `siws_nonces` (`address`,`expires_at`);