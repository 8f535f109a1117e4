CREATE TABLE `telegram_flows` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`chat_id` text NOT NULL,
	`user_id` text NOT NULL,
	`step` text NOT NULL,
	`state` text DEFAULT '{}' NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `telegram_flows_user_idx` ON `telegram_flows` (`user_id`,`kind`);--> statement-breakpoint
CREATE INDEX `telegram_flows_expires_idx` ON `telegram_flows` (`expires_at`);--> statement-breakpoint
CREATE TABLE `telegram_updates` (
	`update_id` integer PRIMARY KEY NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `telegram_updates_received_idx` ON `telegram_updates` (`received_at`);--> statement-breakpoint
CREATE TABLE `alert_cursors` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`node_id` text,
	`account_id` text,
	`at` integer NOT NULL,
	`data` text DEFAULT '{}' NOT NULL,
	`received_at` integer NOT NULL,
	`fanned_out_at` integer,
	`recipients` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_events_node_idx` ON `alert_events` (`node_id`,`at`);--> statement-breakpoint
CREATE INDEX `alert_events_account_idx` ON `alert_events` (`account_id`,`at`);--> statement-breakpoint
CREATE TABLE `alert_prefs` (
	`chat_id` text PRIMARY KEY NOT NULL,
	`muted_kinds` text DEFAULT '[]' NOT NULL,
	`quiet_start_min` integer,
	`quiet_end_min` integer,
	`time_zone` text DEFAULT 'UTC' NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_subscriptions` (
	`chat_id` text NOT NULL,
	`scope` text NOT NULL,
	`account_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`chat_id`, `scope`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `alert_subscriptions_scope_idx` ON `alert_subscriptions` (`scope`);--> statement-breakpoint
CREATE INDEX `alert_subscriptions_account_idx` ON `alert_subscriptions` (`account_id`);