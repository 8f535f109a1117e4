import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { payoutBatches, payouts } from '../../db/schema.ts';
import { creditDeposit, decidedSignatures, recordIgnoredDeposit } from '../../workers/ledger/deposits.ts';
import { SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { cancelPayout, completePayout, getPayout, requestWithdrawal } from '../../workers/ledger/payouts.ts';
import { eq } from 'drizzle-orm';
import { balanceOf, expectLedgerReconciles, newFundedAccount, randomSignature, randomWallet, testDb, rejectionOf } from './helpers/ledger.ts';

const db = testDb();


describe('deposits', () => {
  it('credits from the treasury, refuses a changed replay, and respects ignored decisions', async () => {
    const accountId = await newFundedAccount();
    const signature = randomSignature();
    const first = await creditDeposit(db, { signature, accountId, amount: 1_000n, reference: 'ref-a' });
    expect(first.credited).toBe(true);
    expect(first.transaction.entries.map((e) => [e.account, e.amount]).sort()).toEqual([
      [accountId, 1_000],
      [SYSTEM_ACCOUNTS.treasury, -1_000],
    ].sort());
    expect(await rejectionOf(creditDeposit(db, { signature, accountId, amount: 1_001n, reference: 'ref-a' }))).toEqual({ status: 409, code: 'idempotency_conflict' });
    const other = await newFundedAccount();
    expect(await rejectionOf(creditDeposit(db, { signature, accountId: other, amount: 1_000n, reference: 'ref-a' }))).toEqual({ status: 409, code: 'idempotency_conflict' });

    const ignored = randomSignature();
    expect(await recordIgnoredDeposit(db, { signature: ignored, reference: 'ref-a', reason: 'wrong_mint' })).toBe(true);
    expect(await recordIgnoredDeposit(db, { signature: ignored, reference: 'ref-a', reason: 'wrong_mint' })).toBe(false);
    expect(await rejectionOf(creditDeposit(db, { signature: ignored, accountId, amount: 5n }))).toEqual({ status: 409, code: 'deposit_already_decided' });
    expect(await decidedSignatures(db, 'ref-a')).toEqual(new Set([signature, ignored]));
    expect(await balanceOf(accountId)).toBe(1_000);
    expect(await balanceOf(SYSTEM_ACCOUNTS.treasury)).toBeLessThanOrEqual(-1_000);
    await expectLedgerReconciles();
  });

  it('rejects malformed deposits and unknown accounts', async () => {
    const accountId = await newFundedAccount();
    expect(await rejectionOf(creditDeposit(db, { signature: 'abc', accountId, amount: 1 }))).toEqual({ status: 400, code: 'invalid_deposit' });
    expect(await rejectionOf(creditDeposit(db, { signature: randomSignature(), accountId, amount: 0 }))).toEqual({ status: 400, code: 'invalid_deposit' });
    expect(await rejectionOf(creditDeposit(db, { signature: randomSignature(), accountId, amount: 2n ** 60n }))).toEqual({ status: 400, code: 'invalid_deposit' });
    expect(await rejectionOf(creditDeposit(db, { signature: randomSignature(), accountId: `acc_${'f'.repeat(32)}`, amount: 1 }))).toEqual({
      status: 404,
      code: 'account_not_found',
    });
  });
});

describe('payouts', () => {
  it('pays a batched payout into the treasury once, and refunds a cancelled one once', async () => {
    const accountId = await newFundedAccount(1_000);
    const paid = await requestWithdrawal(db, { accountId, amount: 300, destination: randomWallet(), idempotencyKey: 'po-test-1' });
    const cancelled = await requestWithdrawal(db, { accountId, amount: 200, destination: randomWallet(), idempotencyKey: 'po-test-2' });
    expect(await balanceOf(accountId)).toBe(500);

    // A payout still queued cannot be marked paid; settlement batches it first.
    expect(await rejectionOf(completePayout(db, paid.payout.id))).toEqual({ status: 409, code: 'payout_state' });
    const now = Date.now();
    await db.insert(payoutBatches).values({ id: 'pb_1', createdAt: now, updatedAt: now });
    await db.update(payouts).set({ status: 'batched', batchId: 'pb_1' }).where(eq(payouts.id, paid.payout.id));

    const treasuryBefore = await balanceOf(SYSTEM_ACCOUNTS.treasury);
    const tx = await completePayout(db, paid.payout.id);
    const retry = await completePayout(db, paid.payout.id);
    expect(retry.id).toBe(tx.id);
    expect(await balanceOf(SYSTEM_ACCOUNTS.treasury)).toBe(treasuryBefore + 300);
    expect((await getPayout(db, paid.payout.id))!.status).toBe('paid');
    expect(await rejectionOf(cancelPayout(db, paid.payout.id, 'too late'))).toEqual({ status: 409, code: 'payout_state' });

    const refund = await cancelPayout(db, cancelled.payout.id, 'recipient rejected');
    expect((await cancelPayout(db, cancelled.payout.id, 'recipient rejected')).id).toBe(refund.id);
    expect(await balanceOf(accountId)).toBe(700);
    expect(await rejectionOf(completePayout(db, cancelled.payout.id))).toEqual({ status: 409, code: 'payout_state' });
    expect(await rejectionOf(completePayout(db, 'po_missing'))).toEqual({ status: 404, code: 'not_found' });
    const pending = await env.DB.prepare("SELECT sum(amount) AS s FROM payouts WHERE status IN ('queued', 'batched')").first('s');
    expect(await balanceOf(SYSTEM_ACCOUNTS.payoutsPending)).toBe((pending as number | null) ?? 0);
    await expectLedgerReconciles();
  });
});
