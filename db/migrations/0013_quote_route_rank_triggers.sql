-- Hand-written (drizzle-kit generate --custom): the quote pre-filter's columns on node_gpus —
-- free GPUs, the node's price and the renter-independent route rank (1 best … 10001 worst; 0: cannot
-- take a job now) — kept by triggers, so every
-- writer of nodes, node_gpus and gpu_commitments keeps them current (workers/jobs/README.md,
-- "Quotes"). The rank formula is routeRank() in workers/jobs/route-rank.ts; change both together
-- (test/worker/jobs-route-rank.test.ts compares them).

-- A GPU group is (re-)registered: its free GPUs are its count less what live jobs hold.
CREATE TRIGGER `node_gpus_route_insert` AFTER INSERT ON `node_gpus`
BEGIN
  UPDATE `node_gpus` SET
    `free` = max(0, NEW.`count` - coalesce((SELECT sum(c.`count`) FROM `gpu_commitments` c WHERE c.`node_id` = NEW.`node_id` AND c.`model` = NEW.`model`), 0)),
    `price` = coalesce((SELECT `price_per_gpu_hour` FROM `nodes` WHERE `id` = NEW.`node_id`), 0)
  WHERE `rowid` = NEW.`rowid`;
  UPDATE `node_gpus` SET `route_rank` = coalesce((SELECT CASE WHEN n.`status` = 'online' AND n.`eligible` = 1 AND n.`suspended` = 0 AND `node_gpus`.`free` > 0 THEN 10001 - CAST(10000 * (
      0.55 * 30.0 / (30.0 + max(0.0, coalesce(n.`rtt_excess_ms`, 15.0)))
      + 0.25 * 1000000.0 / (1000000.0 + n.`price_per_gpu_hour`)
      + 0.1 * min(1.0, max(0.0, n.`reputation`))
      + 0.07 * min(1.0, max(0.0, n.`online_ms` * 1.0 / max(1, n.`last_seen_at` - n.`registered_at`)))
      + 0.03 * n.`stake_total` / (n.`stake_total` + 1000000000.0)) AS INTEGER) ELSE 0 END FROM `nodes` n WHERE n.`id` = `node_gpus`.`node_id`), 0)
  WHERE `rowid` = NEW.`rowid`;
END;
--> statement-breakpoint
-- Anything the rank reads changed on the node (status, eligibility, price, reputation, uptime,
-- measured excess, stake). Rows are written only where the rank or price really moved, so a
-- routine liveness fold rewrites no index page unless a rank changed.
CREATE TRIGGER `nodes_route_update` AFTER UPDATE OF `status`, `eligible`, `suspended`, `price_per_gpu_hour`, `reputation`, `online_ms`, `last_seen_at`, `registered_at`, `rtt_excess_ms`, `stake_total` ON `nodes`
BEGIN
  UPDATE `node_gpus` SET `price` = NEW.`price_per_gpu_hour`, `route_rank` = CASE WHEN NEW.`status` = 'online' AND NEW.`eligible` = 1 AND NEW.`suspended` = 0 AND `node_gpus`.`free` > 0 THEN 10001 - CAST(10000 * (
      0.55 * 30.0 / (30.0 + max(0.0, coalesce(NEW.`rtt_excess_ms`, 15.0)))
      + 0.25 * 1000000.0 / (1000000.0 + NEW.`price_per_gpu_hour`)
      + 0.1 * min(1.0, max(0.0, NEW.`reputation`))
      + 0.07 * min(1.0, max(0.0, NEW.`online_ms` * 1.0 / max(1, NEW.`last_seen_at` - NEW.`registered_at`)))
      + 0.03 * NEW.`stake_total` / (NEW.`stake_total` + 1000000000.0)) AS INTEGER) ELSE 0 END
  WHERE `node_id` = NEW.`id` AND (`price` <> NEW.`price_per_gpu_hour` OR `route_rank` <> CASE WHEN NEW.`status` = 'online' AND NEW.`eligible` = 1 AND NEW.`suspended` = 0 AND `node_gpus`.`free` > 0 THEN 10001 - CAST(10000 * (
      0.55 * 30.0 / (30.0 + max(0.0, coalesce(NEW.`rtt_excess_ms`, 15.0)))
      + 0.25 * 1000000.0 / (1000000.0 + NEW.`price_per_gpu_hour`)
      + 0.1 * min(1.0, max(0.0, NEW.`reputation`))
      + 0.07 * min(1.0, max(0.0, NEW.`online_ms` * 1.0 / max(1, NEW.`last_seen_at` - NEW.`registered_at`)))
      + 0.03 * NEW.`stake_total` / (NEW.`stake_total` + 1000000000.0)) AS INTEGER) ELSE 0 END);
END;
--> statement-breakpoint
-- GPUs committed to a job: fewer free; a group with none free drops out of the pre-filter.
CREATE TRIGGER `gpu_commitments_route_insert` AFTER INSERT ON `gpu_commitments`
BEGIN
  UPDATE `node_gpus` SET `free` = max(0, `free` - NEW.`count`) WHERE `node_id` = NEW.`node_id` AND `model` = NEW.`model`;
  UPDATE `node_gpus` SET `route_rank` = coalesce((SELECT CASE WHEN n.`status` = 'online' AND n.`eligible` = 1 AND n.`suspended` = 0 AND `node_gpus`.`free` > 0 THEN 10001 - CAST(10000 * (
      0.55 * 30.0 / (30.0 + max(0.0, coalesce(n.`rtt_excess_ms`, 15.0)))
      + 0.25 * 1000000.0 / (1000000.0 + n.`price_per_gpu_hour`)
      + 0.1 * min(1.0, max(0.0, n.`reputation`))
      + 0.07 * min(1.0, max(0.0, n.`online_ms` * 1.0 / max(1, n.`last_seen_at` - n.`registered_at`)))
      + 0.03 * n.`stake_total` / (n.`stake_total` + 1000000000.0)) AS INTEGER) ELSE 0 END FROM `nodes` n WHERE n.`id` = `node_gpus`.`node_id`), 0)
  WHERE `node_id` = NEW.`node_id` AND `model` = NEW.`model`;
END;
--> statement-breakpoint
CREATE TRIGGER `gpu_commitments_route_delete` AFTER DELETE ON `gpu_commitments`
BEGIN
  UPDATE `node_gpus` SET `free` = min(`count`, `free` + OLD.`count`) WHERE `node_id` = OLD.`node_id` AND `model` = OLD.`model`;
  UPDATE `node_gpus` SET `route_rank` = coalesce((SELECT CASE WHEN n.`status` = 'online' AND n.`eligible` = 1 AND n.`suspended` = 0 AND `node_gpus`.`free` > 0 THEN 10001 - CAST(10000 * (
      0.55 * 30.0 / (30.0 + max(0.0, coalesce(n.`rtt_excess_ms`, 15.0)))
      + 0.25 * 1000000.0 / (1000000.0 + n.`price_per_gpu_hour`)
      + 0.1 * min(1.0, max(0.0, n.`reputation`))
      + 0.07 * min(1.0, max(0.0, n.`online_ms` * 1.0 / max(1, n.`last_seen_at` - n.`registered_at`)))
      + 0.03 * n.`stake_total` / (n.`stake_total` + 1000000000.0)) AS INTEGER) ELSE 0 END FROM `nodes` n WHERE n.`id` = `node_gpus`.`node_id`), 0)
  WHERE `node_id` = OLD.`node_id` AND `model` = OLD.`model`;
END;
--> statement-breakpoint
-- Existing rows.
UPDATE `node_gpus` SET
  `free` = max(0, `count` - coalesce((SELECT sum(c.`count`) FROM `gpu_commitments` c WHERE c.`node_id` = `node_gpus`.`node_id` AND c.`model` = `node_gpus`.`model`), 0)),
  `price` = coalesce((SELECT `price_per_gpu_hour` FROM `nodes` WHERE `id` = `node_gpus`.`node_id`), 0);
--> statement-breakpoint
UPDATE `node_gpus` SET `route_rank` = coalesce((SELECT CASE WHEN n.`status` = 'online' AND n.`eligible` = 1 AND n.`suspended` = 0 AND `node_gpus`.`free` > 0 THEN 10001 - CAST(10000 * (
      0.55 * 30.0 / (30.0 + max(0.0, coalesce(n.`rtt_excess_ms`, 15.0)))
      + 0.25 * 1000000.0 / (1000000.0 + n.`price_per_gpu_hour`)
      + 0.1 * min(1.0, max(0.0, n.`reputation`))
      + 0.07 * min(1.0, max(0.0, n.`online_ms` * 1.0 / max(1, n.`last_seen_at` - n.`registered_at`)))
      + 0.03 * n.`stake_total` / (n.`stake_total` + 1000000000.0)) AS INTEGER) ELSE 0 END FROM `nodes` n WHERE n.`id` = `node_gpus`.`node_id`), 0);
