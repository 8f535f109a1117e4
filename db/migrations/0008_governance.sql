CREATE TABLE `params` (
	`name` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL,
	`proposal_id` text
);
--> statement-breakpoint
CREATE TABLE `proposal_posts` (
	`proposal_id` text NOT NULL,
	`platform` text NOT NULL,
	`channel_id` text NOT NULL,
	`message_id` text,
	`announced_status` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`proposal_id`, `platform`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `proposal_power` (
	`proposal_id` text NOT NULL,
	`account_id` text NOT NULL,
	`power` integer NOT NULL,
	PRIMARY KEY(`proposal_id`, `account_id`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "proposal_power_positive" CHECK("proposal_power"."power" > 0)
);
--> statement-breakpoint
CREATE TABLE `proposals` (
	`id` text PRIMARY KEY NOT NULL,
	`number` integer NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`proposer_account_id` text NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`grant_recipient` text,
	`grant_amount` integer,
	`param_name` text,
	`param_value` text,
	`quorum_bps` integer NOT NULL,
	`threshold_bps` integer NOT NULL,
	`timelock_ms` integer NOT NULL,
	`total_power` integer DEFAULT 0 NOT NULL,
	`opened_at` integer NOT NULL,
	`voting_ends_at` integer NOT NULL,
	`yes_power` integer,
	`no_power` integer,
	`abstain_power` integer,
	`closed_at` integer,
	`executable_at` integer,
	`executed_at` integer,
	`execution_tx_id` text,
	`outcome_reason` text,
	CONSTRAINT "proposals_grant_fields" CHECK(("proposals"."kind" = 'grant') = ("proposals"."grant_recipient" IS NOT NULL AND "proposals"."grant_amount" > 0)),
	CONSTRAINT "proposals_param_fields" CHECK(("proposals"."kind" = 'param') = ("proposals"."param_name" IS NOT NULL AND "proposals"."param_value" IS NOT NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `proposals_number_unique` ON `proposals` (`number`);--> statement-breakpoint
CREATE INDEX `proposals_status_idx` ON `proposals` (`status`,`voting_ends_at`);--> statement-breakpoint
CREATE INDEX `proposals_due_idx` ON `proposals` (`status`,`executable_at`);--> statement-breakpoint
CREATE TABLE `votes` (
	`proposal_id` text NOT NULL,
	`account_id` text NOT NULL,
	`choice` text NOT NULL,
	`power` integer NOT NULL,
	`via` text NOT NULL,
	`cast_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`proposal_id`, `account_id`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `discord_interactions` (
	`id` text PRIMARY KEY NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `discord_interactions_received_idx` ON `discord_interactions` (`received_at`);