ALTER TABLE `deposit_references` ADD `gap_newest` text;--> statement-breakpoint
ALTER TABLE `deposit_references` ADD `gap_before` text;