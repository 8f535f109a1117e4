CREATE TABLE `payout_lookup_tables` (
	`id` text PRIMARY KEY NOT NULL,
	`address` text NOT NULL,
	`recent_slot` integer NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`pending` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payout_lookup_tables_address_unique` ON `payout_lookup_tables` (`address`);--> statement-breakpoint
CREATE INDEX `payout_lookup_tables_status_idx` ON `payout_lookup_tables` (`status`);--> statement-breakpoint
CREATE UNIQUE INDEX `payout_lookup_tables_one_active` ON `payout_lookup_tables` (`status`) WHERE "payout_lookup_tables"."status" = 'active';--> statement-breakpoint
ALTER TABLE `payout_batches` ADD `uses_lookup_table` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `payout_batches` ADD `lookup_table` text;