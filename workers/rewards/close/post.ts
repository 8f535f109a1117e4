import { bulkTransactionStatements } from '../../ledger/bulk-postings.ts';
import { assertChanged } from '../../ledger/sql-assert.ts';
import { randomId } from '../../lib/ids.ts';
import { STAKING_ACCOUNTS } from '../../staking/staking-accounts.ts';
import type { CloseStep } from './close-exec.ts';
import { advance, guarded } from './close-steps.ts';

// Step `post`: one bulk `reward` transaction per chunk of credits (`epoch:<n>:rewards:<chunk>`),
// the cursor counting chunks; moves on after the last.

export const post: CloseStep = async (exec, _config, { nowMs }, row) => {
  const db = exec.db.$client;
  if (row.cursor >= row.creditChunks) {
    await guarded(exec.batch(advance(exec, row)));
    return;
  }
  const credits = await exec.all<{ account_id: string; amount: number }>(
    db
      .prepare('SELECT account_id, amount FROM epoch_credits WHERE epoch = ?1 AND chunk = ?2 ORDER BY account_id')
      .bind(row.epoch, row.cursor),
  );
  const moveCursor = [
    db.prepare('UPDATE epochs SET cursor = cursor + 1 WHERE epoch = ?1 AND step = ?2 AND cursor = ?3').bind(row.epoch, 'post', row.cursor),
    assertChanged(db, 'epoch_moved'),
  ];
  const entries = credits.filter((c) => c.amount > 0).map((c) => ({ account: c.account_id, amount: c.amount }));
  if (entries.length === 0) {
    await guarded(exec.batch(moveCursor));
    return;
  }
  const tx = await bulkTransactionStatements(
    exec.db,
    {
      kind: 'reward',
      idempotencyKey: `epoch:${row.epoch}:rewards:${row.cursor}`,
      counterAccount: STAKING_ACCOUNTS.rewardPool,
      entries,
      ref: `epoch:${row.epoch}`,
    },
    randomId('tx'),
    nowMs,
  );
  await guarded(exec.batch([...tx, ...moveCursor]));
};
