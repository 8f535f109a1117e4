-- Hand-written (drizzle-kit generate --custom): the proposal state machine, in SQL, so no code
-- path — a retry, a racing cron, a future caller — can move a proposal twice.
--   open → passed | rejected;  passed → executed (not before executable_at) | failed.
-- Every UPDATE that sets `status` must be one of these moves; anything else, including setting
-- the same status again, aborts the statement and with it the whole D1 batch it is in (the
-- grant's ledger transaction, the parameter write).
CREATE TRIGGER `proposals_status_machine` BEFORE UPDATE OF `status` ON `proposals`
WHEN NOT (
  (OLD.`status` = 'open' AND NEW.`status` IN ('passed', 'rejected'))
  OR (OLD.`status` = 'passed' AND NEW.`status` = 'executed' AND NEW.`executed_at` IS NOT NULL AND NEW.`executed_at` >= OLD.`executable_at`)
  OR (OLD.`status` = 'passed' AND NEW.`status` = 'failed')
)
BEGIN
  SELECT RAISE(ABORT, 'proposal_bad_transition');
END;
--> statement-breakpoint
-- The snapshot is written once, by the batch that opens the proposal; votes carry its power.
CREATE TRIGGER `proposal_power_frozen` BEFORE UPDATE ON `proposal_power`
BEGIN
  SELECT RAISE(ABORT, 'proposal_power_frozen');
END;
--> statement-breakpoint
CREATE TRIGGER `votes_power_frozen` BEFORE UPDATE OF `power`, `proposal_id`, `account_id` ON `votes`
WHEN NEW.`power` <> OLD.`power` OR NEW.`proposal_id` <> OLD.`proposal_id` OR NEW.`account_id` <> OLD.`account_id`
BEGIN
  SELECT RAISE(ABORT, 'vote_power_frozen');
END;
