import { bulkTransactionStatements } from '../../ledger/bulk-postings.ts';
import { assertChangedExactly } from '../../ledger/sql-assert.ts';
import { randomId } from '../../lib/ids.ts';
import { STAKING_ACCOUNTS } from '../../staking/staking-accounts.ts';
import type { CloseStep } from './close-exec.ts';
import { advance, guarded } from './close-steps.ts';

// Step `release`: unbondings due by the epoch's end → their owners
// (`epoch:<n>:release:<first id>`), CLOSE_CHUNK_ROWS a round; moves on when none is due.

export const release: CloseStep = async (exec, config, { nowMs }, row) => {
  const db = exec.db.$client;
  // An unbonding of a node with a pending slash stays put until that slash has been applied
  // (by this close's slash step, or the next close's for one recorded since the snapshot):
  // unstaking must not be a way out of a slash that is already on its way.
  const due = await exec.all<{ id: number; account_id: string; amount: number }>(
    db
      .prepare(
        `SELECT id, account_id, amount FROM unbondings u WHERE status = 'unbonding' AND release_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM slashes s WHERE s.node_id = u.node_id AND s.status = 'pending')
         ORDER BY id LIMIT ?2`,
      )
      .bind(row.endMs, config.CLOSE_CHUNK_ROWS),
  );
  if (due.length === 0) {
    await guarded(exec.batch(advance(exec, row)));
    return;
  }
  const byAccount = new Map<string, number>();
  for (const u of due) byAccount.set(u.account_id, (byAccount.get(u.account_id) ?? 0) + u.amount);
  const entries = [...byAccount]
    .filter(([, a]) => a > 0)
    .map(([account, amount]) => ({ account, amount }))
    .sort((a, b) => (a.account < b.account ? -1 : 1));
  const txId = entries.length > 0 ? randomId('tx') : null;
  // The same guard again in the write: a slash recorded between the read and this batch keeps
  // its node's unbondings, and the changed-row assertion aborts the whole release (read again at once).
  const mark = [
    db
      .prepare(
        `UPDATE unbondings SET status = 'released', released_at = ?2, ledger_tx_id = ?3 WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'unbonding'
           AND NOT EXISTS (SELECT 1 FROM slashes s WHERE s.node_id = unbondings.node_id AND s.status = 'pending')`,
      )
      .bind(JSON.stringify(due.map((u) => u.id)), nowMs, txId),
    // Every row read, or none: the transaction pays for all of them.
    assertChangedExactly(db, 'unbonding_moved', due.length),
  ];
  const tx =
    txId === null
      ? []
      : await bulkTransactionStatements(
          exec.db,
          {
            kind: 'unstake',
            idempotencyKey: `epoch:${row.epoch}:release:${due[0]!.id}`,
            counterAccount: STAKING_ACCOUNTS.unbonding,
            entries,
            ref: `epoch:${row.epoch}`,
          },
          txId,
          nowMs,
        );
  await guarded(exec.batch([...tx, ...mark]));
};
