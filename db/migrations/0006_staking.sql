CREATE TABLE `challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`reason` text NOT NULL,
	`seed` text NOT NULL,
	`n` integer NOT NULL,
	`products` integer NOT NULL,
	`sample` text NOT NULL,
	`claimed` text NOT NULL,
	`simulated` integer NOT NULL,
	`deadline_ms` integer NOT NULL,
	`status` text DEFAULT 'issued' NOT NULL,
	`issued_at` integer NOT NULL,
	`delivered_at` integer,
	`answered_at` integer,
	`expires_at` integer NOT NULL,
	`failure` text
);
--> statement-breakpoint
CREATE INDEX `challenges_node_idx` ON `challenges` (`node_id`,`status`);--> statement-breakpoint
CREATE INDEX `challenges_status_expiry_idx` ON `challenges` (`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `epoch_credits` (
	`epoch` integer NOT NULL,
	`account_id` text NOT NULL,
	`chunk` integer NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`epoch`, `account_id`)
);
--> statement-breakpoint
CREATE INDEX `epoch_credits_chunk_idx` ON `epoch_credits` (`epoch`,`chunk`);--> statement-breakpoint
CREATE TABLE `epoch_nodes` (
	`epoch` integer NOT NULL,
	`node_id` text NOT NULL,
	`operator_account` text,
	`uptime_ms` integer NOT NULL,
	`weight_milli` integer NOT NULL,
	`geo_cell` text NOT NULL,
	`gpu_seconds` integer DEFAULT 0 NOT NULL,
	`commission_bps` integer NOT NULL,
	`region_bps` integer DEFAULT 10000 NOT NULL,
	`capacity_reward` integer DEFAULT 0 NOT NULL,
	`work_reward` integer DEFAULT 0 NOT NULL,
	`slashed_reward` integer DEFAULT 0 NOT NULL,
	`net_reward` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`epoch`, `node_id`)
);
--> statement-breakpoint
CREATE INDEX `epoch_nodes_node_idx` ON `epoch_nodes` (`node_id`,`epoch`);--> statement-breakpoint
CREATE TABLE `epoch_stakes` (
	`epoch` integer NOT NULL,
	`node_id` text NOT NULL,
	`account_id` text NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`epoch`, `node_id`, `account_id`)
);
--> statement-breakpoint
CREATE TABLE `epochs` (
	`epoch` integer PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`step` text NOT NULL,
	`cursor` integer DEFAULT 0 NOT NULL,
	`start_ms` integer NOT NULL,
	`end_ms` integer NOT NULL,
	`emission` integer DEFAULT 0 NOT NULL,
	`carry_in` integer DEFAULT 0 NOT NULL,
	`minted` integer DEFAULT 0 NOT NULL,
	`carry_out` integer DEFAULT 0 NOT NULL,
	`capacity_pool` integer DEFAULT 0 NOT NULL,
	`work_pool` integer DEFAULT 0 NOT NULL,
	`fees` integer DEFAULT 0 NOT NULL,
	`burned` integer DEFAULT 0 NOT NULL,
	`nodes` integer DEFAULT 0 NOT NULL,
	`credit_chunks` integer DEFAULT 0 NOT NULL,
	`queries` integer DEFAULT 0 NOT NULL,
	`runs` integer DEFAULT 0 NOT NULL,
	`started_at` integer NOT NULL,
	`closed_at` integer
);
--> statement-breakpoint
CREATE TABLE `node_staking` (
	`node_id` text PRIMARY KEY NOT NULL,
	`commission_bps` integer NOT NULL,
	`next_commission_bps` integer,
	`next_commission_epoch` integer,
	`reward_online_ms` integer DEFAULT 0 NOT NULL,
	`verified_inventory` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `reward_shares` (
	`epoch` integer NOT NULL,
	`node_id` text NOT NULL,
	`account_id` text NOT NULL,
	`role` text NOT NULL,
	`amount` integer NOT NULL,
	`commission` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`epoch`, `node_id`, `account_id`)
);
--> statement-breakpoint
CREATE INDEX `reward_shares_account_idx` ON `reward_shares` (`account_id`,`epoch`);--> statement-breakpoint
CREATE TABLE `slash_shares` (
	`slash_id` text NOT NULL,
	`account_id` text NOT NULL,
	`source` text NOT NULL,
	`unbonding_id` integer DEFAULT 0 NOT NULL,
	`amount` integer NOT NULL,
	PRIMARY KEY(`slash_id`, `account_id`, `source`, `unbonding_id`)
);
--> statement-breakpoint
CREATE TABLE `slashes` (
	`id` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`offence` text NOT NULL,
	`dedupe_key` text NOT NULL,
	`amount` integer NOT NULL,
	`evidence` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`epoch` integer,
	`from_reward` integer DEFAULT 0 NOT NULL,
	`from_stake` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`applied_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `slashes_dedupe_key_unique` ON `slashes` (`dedupe_key`);--> statement-breakpoint
CREATE INDEX `slashes_node_idx` ON `slashes` (`node_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `slashes_status_idx` ON `slashes` (`status`,`epoch`);--> statement-breakpoint
CREATE TABLE `stakes` (
	`account_id` text NOT NULL,
	`node_id` text NOT NULL,
	`amount` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `node_id`),
	CONSTRAINT "stakes_amount_non_negative" CHECK("stakes"."amount" >= 0)
);
--> statement-breakpoint
CREATE INDEX `stakes_node_idx` ON `stakes` (`node_id`);--> statement-breakpoint
CREATE TABLE `unbondings` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`node_id` text NOT NULL,
	`amount` integer NOT NULL,
	`requested_at` integer NOT NULL,
	`release_at` integer NOT NULL,
	`status` text DEFAULT 'unbonding' NOT NULL,
	`released_at` integer,
	`ledger_tx_id` text,
	CONSTRAINT "unbondings_amount_non_negative" CHECK("unbondings"."amount" >= 0)
);
--> statement-breakpoint
CREATE INDEX `unbondings_status_release_idx` ON `unbondings` (`status`,`release_at`);--> statement-breakpoint
CREATE INDEX `unbondings_node_idx` ON `unbondings` (`node_id`,`status`);--> statement-breakpoint
CREATE INDEX `unbondings_account_idx` ON `unbondings` (`account_id`,`status`);--> statement-breakpoint
ALTER TABLE `nodes` ADD `stake_total` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `nodes` ADD `verified_at` integer;--> statement-breakpoint
ALTER TABLE `nodes` ADD `eligible` integer DEFAULT false NOT NULL;