CREATE TABLE `endpoint_traffic` (
	`endpoint_id` text NOT NULL,
	`minute` integer NOT NULL,
	`cell` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`ttfb_le_25` integer DEFAULT 0 NOT NULL,
	`ttfb_le_50` integer DEFAULT 0 NOT NULL,
	`ttfb_le_100` integer DEFAULT 0 NOT NULL,
	`ttfb_le_250` integer DEFAULT 0 NOT NULL,
	`ttfb_le_500` integer DEFAULT 0 NOT NULL,
	`ttfb_le_1000` integer DEFAULT 0 NOT NULL,
	`ttfb_le_2500` integer DEFAULT 0 NOT NULL,
	`ttfb_gt_2500` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`endpoint_id`, `minute`, `cell`)
);
--> statement-breakpoint
CREATE INDEX `endpoint_traffic_minute_idx` ON `endpoint_traffic` (`minute`);