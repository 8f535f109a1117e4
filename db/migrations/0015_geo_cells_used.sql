CREATE TABLE `geo_cells_used` (
	`geo_cell` text PRIMARY KEY NOT NULL
);
