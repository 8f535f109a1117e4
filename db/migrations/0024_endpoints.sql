CREATE TABLE `endpoint_keys` (
	`hash` text PRIMARY KEY NOT NULL,
	`endpoint_id` text NOT NULL,
	`prefix` text NOT NULL,
	`name` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `endpoint_keys_endpoint_idx` ON `endpoint_keys` (`endpoint_id`,`revoked_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `endpoint_keys_prefix_unique` ON `endpoint_keys` (`endpoint_id`,`prefix`);--> statement-breakpoint
CREATE TABLE `endpoint_replicas` (
	`id` text PRIMARY KEY NOT NULL,
	`endpoint_id` text NOT NULL,
	`node_id` text NOT NULL,
	`generation` integer NOT NULL,
	`state` text NOT NULL,
	`reason` text,
	`price_per_gpu_hour` integer NOT NULL,
	`gpu_count` integer NOT NULL,
	`placed_at` integer NOT NULL,
	`ready_since` integer,
	`ready_ms` integer DEFAULT 0 NOT NULL,
	`receipt_ready_ms` integer DEFAULT 0 NOT NULL,
	`receipt_at` integer,
	`receipt_signature` text,
	`billed_ms` integer DEFAULT 0 NOT NULL,
	`billed_amount` integer DEFAULT 0 NOT NULL,
	`billed_fee` integer DEFAULT 0 NOT NULL,
	`requests_seen` integer DEFAULT 0 NOT NULL,
	`stopped_at` integer,
	`updated_at` integer NOT NULL,
	CONSTRAINT "endpoint_replicas_billed_le_receipt" CHECK("endpoint_replicas"."billed_ms" <= "endpoint_replicas"."receipt_ready_ms"),
	CONSTRAINT "endpoint_replicas_billed_non_negative" CHECK("endpoint_replicas"."billed_ms" >= 0 AND "endpoint_replicas"."billed_amount" >= 0 AND "endpoint_replicas"."billed_fee" >= 0 AND "endpoint_replicas"."billed_fee" <= "endpoint_replicas"."billed_amount")
);
--> statement-breakpoint
CREATE INDEX `endpoint_replicas_endpoint_idx` ON `endpoint_replicas` (`endpoint_id`,`stopped_at`);--> statement-breakpoint
CREATE INDEX `endpoint_replicas_node_idx` ON `endpoint_replicas` (`node_id`,`stopped_at`);--> statement-breakpoint
CREATE INDEX `endpoint_replicas_live_idx` ON `endpoint_replicas` (`stopped_at`,`state`);--> statement-breakpoint
CREATE TABLE `endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`idempotency_key` text,
	`request_hash` text NOT NULL,
	`name` text NOT NULL,
	`image` text NOT NULL,
	`command` text DEFAULT '[]' NOT NULL,
	`env` text DEFAULT '{}' NOT NULL,
	`port` integer NOT NULL,
	`health_path` text NOT NULL,
	`gpu_models` text,
	`gpu_count` integer NOT NULL,
	`min_vram_mb` integer DEFAULT 0 NOT NULL,
	`min_replicas` integer NOT NULL,
	`max_replicas` integer NOT NULL,
	`regions` text DEFAULT '[]' NOT NULL,
	`max_price_per_gpu_hour` integer NOT NULL,
	`target_inflight` integer NOT NULL,
	`idle_s` integer,
	`public` integer DEFAULT false NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`generation` integer DEFAULT 1 NOT NULL,
	`desired_replicas` integer NOT NULL,
	`last_active_at` integer NOT NULL,
	`hold_seq` integer DEFAULT 0 NOT NULL,
	`low_balance_alerted_at` integer,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted_at` integer,
	CONSTRAINT "endpoints_replicas_range" CHECK("endpoints"."min_replicas" >= 0 AND "endpoints"."max_replicas" >= 1 AND "endpoints"."min_replicas" <= "endpoints"."max_replicas"),
	CONSTRAINT "endpoints_gpu_count_positive" CHECK("endpoints"."gpu_count" > 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `endpoints_idempotency_unique` ON `endpoints` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `endpoints_account_idx` ON `endpoints` (`account_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `endpoints_status_idx` ON `endpoints` (`status`);