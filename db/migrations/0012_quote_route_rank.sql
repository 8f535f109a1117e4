DROP INDEX `node_gpus_model_cell_idx`;--> statement-breakpoint
ALTER TABLE `node_gpus` ADD `free` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `node_gpus` ADD `price` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `node_gpus` ADD `route_rank` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `node_gpus_route_idx` ON `node_gpus` (`canonical_model`,`geo_cell`,`route_rank`,`free`,`vram_mb`,`price`);--> statement-breakpoint
ALTER TABLE `nodes` ADD `rtt_excess_ms` real;