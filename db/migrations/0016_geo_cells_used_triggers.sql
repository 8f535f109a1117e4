-- Hand-written (drizzle-kit generate --custom): geo_cells_used lists every cell that ever held a
-- node, so a quote's rings skip empty cells (workers/jobs/README.md, "Quotes"). NOT EXISTS, not
-- OR IGNORE: a trigger's conflict clause gives way to the firing statement's (an upsert aborts).
CREATE TRIGGER `nodes_cell_insert` AFTER INSERT ON `nodes`
BEGIN
  INSERT INTO `geo_cells_used` (`geo_cell`) SELECT NEW.`geo_cell` WHERE NOT EXISTS (SELECT 1 FROM `geo_cells_used` WHERE `geo_cell` = NEW.`geo_cell`);
END;
--> statement-breakpoint
CREATE TRIGGER `nodes_cell_update` AFTER UPDATE OF `geo_cell` ON `nodes`
BEGIN
  INSERT INTO `geo_cells_used` (`geo_cell`) SELECT NEW.`geo_cell` WHERE NOT EXISTS (SELECT 1 FROM `geo_cells_used` WHERE `geo_cell` = NEW.`geo_cell`);
END;
--> statement-breakpoint
INSERT OR IGNORE INTO `geo_cells_used` (`geo_cell`) SELECT DISTINCT `geo_cell` FROM `nodes`;
