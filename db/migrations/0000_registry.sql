CREATE TABLE `node_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`node_id` text NOT NULL,
	`kind` text NOT NULL,
	`at` integer NOT NULL,
	`detail` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `node_events_node_idx` ON `node_events` (`node_id`,`at`);--> statement-breakpoint
CREATE INDEX `node_events_at_idx` ON `node_events` (`at`);--> statement-breakpoint
CREATE TABLE `node_gpus` (
	`node_id` text NOT NULL,
	`model` text NOT NULL,
	`canonical_model` text NOT NULL,
	`vram_mb` integer NOT NULL,
	`count` integer NOT NULL,
	`simulated` integer DEFAULT false NOT NULL,
	`geo_cell` text NOT NULL,
	PRIMARY KEY(`node_id`, `model`),
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_gpus_model_cell_idx` ON `node_gpus` (`canonical_model`,`geo_cell`);--> statement-breakpoint
CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`simulated` integer DEFAULT false NOT NULL,
	`lat` real NOT NULL,
	`lon` real NOT NULL,
	`country` text NOT NULL,
	`geo_cell` text NOT NULL,
	`price_per_gpu_hour` integer NOT NULL,
	`agent_version` text NOT NULL,
	`registered_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`online_ms` integer DEFAULT 0 NOT NULL,
	`probes` text DEFAULT '[]' NOT NULL,
	`reputation` real DEFAULT 1 NOT NULL,
	`suspended` integer DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE INDEX `nodes_status_idx` ON `nodes` (`status`,`id`);--> statement-breakpoint
CREATE INDEX `nodes_country_idx` ON `nodes` (`country`,`id`);--> statement-breakpoint
CREATE INDEX `nodes_owner_idx` ON `nodes` (`owner`);--> statement-breakpoint
CREATE TABLE `probe_points` (
	`id` text PRIMARY KEY NOT NULL,
	`lat` real NOT NULL,
	`lon` real NOT NULL,
	`url` text,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
