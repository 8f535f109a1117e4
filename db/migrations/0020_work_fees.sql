ALTER TABLE `epoch_nodes` ADD `work_fees` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `epochs` ADD `work_fee_multiple_bps` integer;