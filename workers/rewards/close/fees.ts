import { SYSTEM_ACCOUNTS } from '../../ledger/ledger-accounts.ts';
import { STAKING_ACCOUNTS } from '../../staking/staking-accounts.ts';
import { splitFees } from '../fee-split.ts';
import type { CloseStep } from './close-exec.ts';
import { advance, guarded, guardedPost } from './close-steps.ts';

// Step `fees`: system:fees at the snapshot → burned and community treasury (`epoch:<n>:fees`).

export const fees: CloseStep = async (exec, config, { nowMs }, row) => {
  const { burn, treasury } = splitFees(BigInt(row.fees), config.FEE_BURN_BPS);
  const finish = advance(exec, row, ', burned = ?6', [Number(burn)]);
  if (burn + treasury === 0n) {
    await guarded(exec.batch(finish));
    return;
  }
  exec.charge(3 + finish.length);
  await guardedPost(
    exec.db,
    {
      kind: burn > 0n ? 'burn' : 'fee',
      idempotencyKey: `epoch:${row.epoch}:fees`,
      entries: [
        { account: SYSTEM_ACCOUNTS.fees, amount: -(burn + treasury) },
        ...(burn > 0n ? [{ account: SYSTEM_ACCOUNTS.burn, amount: burn }] : []),
        ...(treasury > 0n ? [{ account: STAKING_ACCOUNTS.community, amount: treasury }] : []),
      ],
      ref: `epoch:${row.epoch}`,
      memo: 'protocol fees: burn and community treasury',
    },
    { now: nowMs, with: () => finish },
  );
};
