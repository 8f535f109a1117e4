CREATE TABLE `payout_batch_attempts` (
	`batch_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`signature` text NOT NULL,
	`blockhash` text NOT NULL,
	`last_valid_block_height` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`batch_id`, `attempt`),
	FOREIGN KEY (`batch_id`) REFERENCES `payout_batches`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_batch_attempts_signature_unique` ON `payout_batch_attempts` (`signature`);--> statement-breakpoint
ALTER TABLE `deposits` ADD `payer` text;--> statement-breakpoint
ALTER TABLE `deposits` ADD `source_owner` text;--> statement-breakpoint
ALTER TABLE `deposits` ADD `block_time` integer;--> statement-breakpoint
ALTER TABLE `deposits` ADD `detail` text;--> statement-breakpoint
ALTER TABLE `payouts` ADD `create_recipient_ata` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `payout_batches_signature_unique` ON `payout_batches` (`signature`);