ALTER TABLE `link_tokens` ADD `platform_user_name` text;--> statement-breakpoint
ALTER TABLE `link_tokens` ADD `confirmed_at` integer;--> statement-breakpoint
ALTER TABLE `link_tokens` ADD `cancelled_at` integer;--> statement-breakpoint
ALTER TABLE `proposals` ADD `idempotency_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `proposals_idempotency_key_unique` ON `proposals` (`idempotency_key`);