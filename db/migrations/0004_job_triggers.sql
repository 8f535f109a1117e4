-- Hand-written (drizzle-kit generate --custom): job rules the drizzle schema cannot express.
-- See workers/jobs/README.md. The edge list must equal JOB_EDGES in workers/jobs/job-state.ts
-- (test/worker/jobs-state-sql.test.ts checks both ways).

-- Only the state machine's edges; a refused edge aborts the whole batch it is in.
CREATE TRIGGER `jobs_status_guard` BEFORE UPDATE OF `status` ON `jobs`
WHEN OLD.`status` <> NEW.`status` AND (OLD.`status` || '>' || NEW.`status`) NOT IN ('queued>assigned', 'queued>cancelled', 'queued>expired', 'assigned>starting', 'assigned>queued', 'assigned>cancelled', 'assigned>expired', 'starting>running', 'starting>queued', 'starting>failed', 'starting>cancelled', 'starting>expired', 'running>succeeded', 'running>failed', 'running>cancelled', 'running>expired')
BEGIN
  SELECT RAISE(ABORT, 'illegal_job_transition');
END;
--> statement-breakpoint
-- Every transition is stored with who caused it and why; writers cannot forget to.
CREATE TRIGGER `jobs_log_insert` AFTER INSERT ON `jobs`
BEGIN
  INSERT INTO `job_transitions` (`job_id`, `from_status`, `to_status`, `actor`, `reason`, `node_id`, `at`)
  VALUES (NEW.`id`, NULL, NEW.`status`, NEW.`last_actor`, NEW.`last_reason`, NEW.`node_id`, NEW.`updated_at`);
END;
--> statement-breakpoint
CREATE TRIGGER `jobs_log_update` AFTER UPDATE OF `status` ON `jobs`
WHEN OLD.`status` <> NEW.`status`
BEGIN
  INSERT INTO `job_transitions` (`job_id`, `from_status`, `to_status`, `actor`, `reason`, `node_id`, `at`)
  VALUES (NEW.`id`, OLD.`status`, NEW.`status`, NEW.`last_actor`, NEW.`last_reason`, coalesce(NEW.`node_id`, OLD.`node_id`), NEW.`updated_at`);
END;
--> statement-breakpoint
-- A node never commits more GPUs of a group than it has: two renters racing for the last GPU
-- both run this check inside their own batch, and D1 serialises the batches.
CREATE TRIGGER `gpu_commitments_capacity` BEFORE INSERT ON `gpu_commitments`
WHEN NEW.`count` <= 0 OR NEW.`count` + coalesce((SELECT sum(`count`) FROM `gpu_commitments` WHERE `node_id` = NEW.`node_id` AND `model` = NEW.`model`), 0)
     > coalesce((SELECT `count` FROM `node_gpus` WHERE `node_id` = NEW.`node_id` AND `model` = NEW.`model`), 0)
BEGIN
  SELECT RAISE(ABORT, 'gpu_capacity');
END;
--> statement-breakpoint
-- Compare-and-swap for D1 batches, which have no interactive transactions: a writer appends
-- `INSERT INTO job_assertions SELECT ... WHERE NOT EXISTS (<the row it expects>)`; when the row
-- is not there, this aborts the batch, ledger entries included. The table never holds a row.
CREATE TABLE `job_assertions` (`job_id` text);
--> statement-breakpoint
CREATE TRIGGER `job_assertions_fail` BEFORE INSERT ON `job_assertions`
BEGIN
  SELECT RAISE(ABORT, 'job_version_conflict');
END;
