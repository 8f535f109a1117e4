CREATE TABLE `gpu_commitments` (
	`job_id` text NOT NULL,
	`node_id` text NOT NULL,
	`model` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`job_id`, `model`)
);
--> statement-breakpoint
CREATE INDEX `gpu_commitments_node_idx` ON `gpu_commitments` (`node_id`,`model`);--> statement-breakpoint
CREATE TABLE `job_events` (
	`job_id` text NOT NULL,
	`event_id` text NOT NULL,
	`node_id` text NOT NULL,
	`kind` text NOT NULL,
	`at` integer NOT NULL,
	`signed` text,
	PRIMARY KEY(`job_id`, `event_id`)
);
--> statement-breakpoint
CREATE TABLE `job_logs` (
	`job_id` text NOT NULL,
	`seq` integer NOT NULL,
	`stream` text NOT NULL,
	`data` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`job_id`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `job_transitions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job_id` text NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`actor` text NOT NULL,
	`reason` text NOT NULL,
	`node_id` text,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `job_transitions_job_idx` ON `job_transitions` (`job_id`,`id`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`idempotency_key` text,
	`request_hash` text NOT NULL,
	`status` text NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`last_actor` text NOT NULL,
	`last_reason` text NOT NULL,
	`node_id` text,
	`request` text NOT NULL,
	`models` text,
	`gpu_count` integer NOT NULL,
	`min_vram_mb` integer DEFAULT 0 NOT NULL,
	`duration_s` integer NOT NULL,
	`client_lat` real NOT NULL,
	`client_lon` real NOT NULL,
	`image` text NOT NULL,
	`command` text DEFAULT '[]' NOT NULL,
	`env` text DEFAULT '{}' NOT NULL,
	`escrow_price` integer NOT NULL,
	`escrow_amount` integer NOT NULL,
	`price_per_gpu_hour` integer,
	`allocation` text,
	`excluded_nodes` text DEFAULT '[]' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`accept_deadline` integer,
	`queue_deadline` integer NOT NULL,
	`assigned_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`exit_code` integer,
	`receipt_gpu_seconds` integer,
	`billed_gpu_seconds` integer,
	`captured` integer,
	`fee` integer,
	`refunded` integer,
	`settlement_tx_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	CONSTRAINT "jobs_gpu_count_positive" CHECK("jobs"."gpu_count" > 0),
	CONSTRAINT "jobs_escrow_positive" CHECK("jobs"."escrow_amount" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `jobs_idempotency_unique` ON `jobs` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `jobs_account_idx` ON `jobs` (`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_node_status_idx` ON `jobs` (`node_id`,`status`);--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`,`updated_at`);