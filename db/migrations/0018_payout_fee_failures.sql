ALTER TABLE `payouts` ADD `fee` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `payouts` ADD `failures` integer DEFAULT 0 NOT NULL;