CREATE TABLE `account_links` (
	`platform` text NOT NULL,
	`platform_user_id` text NOT NULL,
	`account_id` text NOT NULL,
	`linked_at` integer NOT NULL,
	PRIMARY KEY(`platform`, `platform_user_id`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `account_links_account_idx` ON `account_links` (`account_id`);--> statement-breakpoint
CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`wallet` text,
	`balance` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "accounts_balance_non_negative" CHECK("accounts"."balance" >= 0 OR "accounts"."kind" = 'external'),
	CONSTRAINT "accounts_wallet_iff_user" CHECK(("accounts"."kind" = 'user') = ("accounts"."wallet" IS NOT NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_wallet_unique` ON `accounts` (`wallet`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`hash` text PRIMARY KEY NOT NULL,
	`prefix` text NOT NULL,
	`account_id` text NOT NULL,
	`origin` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `api_keys_account_idx` ON `api_keys` (`account_id`);--> statement-breakpoint
CREATE TABLE `link_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`platform` text NOT NULL,
	`platform_user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_by_account_id` text
);
--> statement-breakpoint
CREATE INDEX `link_tokens_expires_idx` ON `link_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `siws_nonces` (
	`nonce` text PRIMARY KEY NOT NULL,
	`address` text NOT NULL,
	`message_hash` text NOT NULL,
	`link_token_hash` text,
	`issued_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE INDEX `siws_nonces_expires_idx` ON `siws_nonces` (`expires_at`);--> statement-breakpoint
CREATE TABLE `deposit_references` (
	`reference` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`expected_amount` integer,
	`status` text DEFAULT 'open' NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`scanned_until` text,
	`scanned_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `deposit_references_account_idx` ON `deposit_references` (`account_id`);--> statement-breakpoint
CREATE INDEX `deposit_references_status_idx` ON `deposit_references` (`status`,`scanned_at`);--> statement-breakpoint
CREATE TABLE `deposits` (
	`signature` text PRIMARY KEY NOT NULL,
	`reference` text,
	`account_id` text,
	`status` text NOT NULL,
	`amount` integer,
	`reason` text,
	`ledger_tx_id` text,
	`slot` integer,
	`decided_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`ledger_tx_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `deposits_account_idx` ON `deposits` (`account_id`,`decided_at`);--> statement-breakpoint
CREATE INDEX `deposits_reference_idx` ON `deposits` (`reference`);--> statement-breakpoint
CREATE TABLE `ledger_entries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tx_id` text NOT NULL,
	`account_id` text NOT NULL,
	`amount` integer NOT NULL,
	`balance_after` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`tx_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "ledger_entries_amount_non_zero" CHECK("ledger_entries"."amount" <> 0)
);
--> statement-breakpoint
CREATE INDEX `ledger_entries_account_idx` ON `ledger_entries` (`account_id`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_entries_tx_account_unique` ON `ledger_entries` (`tx_id`,`account_id`);--> statement-breakpoint
CREATE TABLE `ledger_transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`params_hash` text NOT NULL,
	`memo` text,
	`ref` text,
	`meta` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_transactions_idempotency_key_unique` ON `ledger_transactions` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_ref_idx` ON `ledger_transactions` (`ref`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_kind_idx` ON `ledger_transactions` (`kind`,`created_at`);--> statement-breakpoint
CREATE TABLE `payout_batches` (
	`id` text PRIMARY KEY NOT NULL,
	`state` text DEFAULT 'queued' NOT NULL,
	`attempt` integer DEFAULT 0 NOT NULL,
	`signature` text,
	`wire_transaction` text,
	`blockhash` text,
	`last_valid_block_height` integer,
	`landed_slot` integer,
	`failure_reason` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payout_batches_state_idx` ON `payout_batches` (`state`);--> statement-breakpoint
CREATE TABLE `payouts` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`destination` text NOT NULL,
	`amount` integer NOT NULL,
	`status` text DEFAULT 'queued' NOT NULL,
	`batch_id` text,
	`ledger_tx_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`batch_id`) REFERENCES `payout_batches`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`ledger_tx_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "payouts_amount_positive" CHECK("payouts"."amount" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payouts_ledger_tx_id_unique` ON `payouts` (`ledger_tx_id`);--> statement-breakpoint
CREATE INDEX `payouts_status_idx` ON `payouts` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `payouts_account_idx` ON `payouts` (`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `payouts_batch_idx` ON `payouts` (`batch_id`);