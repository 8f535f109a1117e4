-- Hand-written (drizzle-kit generate --custom): what the drizzle schema cannot express.
-- See workers/ledger/README.md for why each rule lives in SQL.

-- An entry names an existing account; the batch it is in aborts otherwise.
CREATE TRIGGER `ledger_entries_known_account` BEFORE INSERT ON `ledger_entries`
BEGIN
  SELECT RAISE(ABORT, 'ledger_unknown_account') WHERE NOT EXISTS (SELECT 1 FROM `accounts` WHERE `id` = NEW.`account_id`);
END;
--> statement-breakpoint
-- Balances follow entries and nothing else. The CHECK on accounts.balance refuses a negative
-- balance for every kind but 'external', which aborts the whole batch.
CREATE TRIGGER `ledger_entries_apply` AFTER INSERT ON `ledger_entries`
BEGIN
  UPDATE `accounts` SET `balance` = `balance` + NEW.`amount`, `updated_at` = NEW.`created_at` WHERE `id` = NEW.`account_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_entries_no_update` BEFORE UPDATE ON `ledger_entries`
BEGIN
  SELECT RAISE(ABORT, 'ledger_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_entries_no_delete` BEFORE DELETE ON `ledger_entries`
BEGIN
  SELECT RAISE(ABORT, 'ledger_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_no_update` BEFORE UPDATE ON `ledger_transactions`
BEGIN
  SELECT RAISE(ABORT, 'ledger_append_only');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_no_delete` BEFORE DELETE ON `ledger_transactions`
BEGIN
  SELECT RAISE(ABORT, 'ledger_append_only');
END;
--> statement-breakpoint
-- The system accounts. `external` ones are the ledger's boundaries and may go negative:
-- system:treasury mirrors tokens that came in from / went out to the chain, system:emission
-- is where minted tokens come from. Every other account stays at or above zero.
INSERT INTO `accounts` (`id`, `kind`, `wallet`, `balance`, `created_at`, `updated_at`) VALUES
  ('system:treasury', 'external', NULL, 0, 0, 0),
  ('system:emission', 'external', NULL, 0, 0, 0),
  ('system:burn', 'system', NULL, 0, 0, 0),
  ('system:fees', 'system', NULL, 0, 0, 0),
  ('system:payouts_pending', 'system', NULL, 0, 0, 0);
