import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { payoutBatches, payouts } from '../../db/schema.ts';
import { creditDeposit, decidedSignatures, recordIgnoredDeposit } from '../../workers/ledger/deposits.ts';
import { SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { cancelPayout, completePayout, getPayout, requestWithdrawal } from '../../workers/ledger/payouts.ts';
import { eq } from 'drizzle-orm';
import { postTransaction } from '../../workers/ledger/ledger.repo.ts';
import { reconcileLedger } from '../../workers/ledger/reconcile.ts';
import {
  balanceOf,
  expectLedgerReconciles,
  newFundedAccount,
  randomSignature,
  randomWallet,
  testDb,
  rejectionOf,
} from './helpers/ledger.ts';

const db = testDb();

describe('deposits', () => {
  it('credits from the treasury, refuses a changed replay, and respects ignored decisions', async () => {
    const accountId = await newFundedAccount();
    const signature = randomSignature();
    const first = await creditDeposit(db, { signature, accountId, amount: 1_000n, reference: 'ref-a' });
    expect(first.credited).toBe(true);
    expect(first.transaction.entries.map((e) => [e.account, e.amount]).sort()).toEqual(
      [
        [accountId, 1_000],
        [SYSTEM_ACCOUNTS.treasury, -1_000],
      ].sort(),
    );
    expect(await rejectionOf(creditDeposit(db, { signature, accountId, amount: 1_001n, reference: 'ref-a' }))).toEqual({
      status: 409,
      code: 'idempotency_conflict',
    });
    const other = await newFundedAccount();
    expect(await rejectionOf(creditDeposit(db, { signature, accountId: other, amount: 1_000n, reference: 'ref-a' }))).toEqual({
      status: 409,
      code: 'idempotency_conflict',
    });

    const ignored = randomSignature();
    expect(await recordIgnoredDeposit(db, { signature: ignored, reference: 'ref-a', reason: 'wrong_mint' })).toBe(true);
    expect(await recordIgnoredDeposit(db, { signature: ignored, reference: 'ref-a', reason: 'wrong_mint' })).toBe(false);
    expect(await rejectionOf(creditDeposit(db, { signature: ignored, accountId, amount: 5n }))).toEqual({
      status: 409,
      code: 'deposit_already_decided',
    });
    expect(await decidedSignatures(db, 'ref-a')).toEqual(new Set([signature, ignored]));
    expect(await balanceOf(accountId)).toBe(1_000);
    expect(await balanceOf(SYSTEM_ACCOUNTS.treasury)).toBeLessThanOrEqual(-1_000);
    await expectLedgerReconciles();
  });

  it('rejects malformed deposits and unknown accounts', async () => {
    const accountId = await newFundedAccount();
    expect(await rejectionOf(creditDeposit(db, { signature: 'abc', accountId, amount: 1 }))).toEqual({
      status: 400,
      code: 'invalid_deposit',
    });
    expect(await rejectionOf(creditDeposit(db, { signature: randomSignature(), accountId, amount: 0 }))).toEqual({
      status: 400,
      code: 'invalid_deposit',
    });
    expect(await rejectionOf(creditDeposit(db, { signature: randomSignature(), accountId, amount: 2n ** 60n }))).toEqual({
      status: 400,
      code: 'invalid_deposit',
    });
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

describe('payout bookkeeping', () => {
  // A payout's status and its ledger posting change in one D1 batch: whatever fails between
  // them (a crash, an error) leaves both as they were, so a retry finds the payout where it was.

  async function batchedPayout(amount: number) {
    const accountId = await newFundedAccount(amount);
    const { payout } = await requestWithdrawal(db, {
      accountId,
      amount,
      destination: randomWallet(),
      idempotencyKey: `bk:${crypto.randomUUID()}`,
    });
    const batchId = `pb_bk_${crypto.randomUUID()}`;
    await db.insert(payoutBatches).values({ id: batchId, createdAt: 0, updatedAt: 0 });
    await db.update(payouts).set({ status: 'batched', batchId }).where(eq(payouts.id, payout.id));
    return { accountId, payout };
  }

  /** Takes the payout's posting key with other parameters, so the posting fails after any status change. */
  async function blockPosting(key: string) {
    const other = await newFundedAccount(1);
    await postTransaction(db, {
      kind: 'mint',
      idempotencyKey: key,
      entries: [
        { account: SYSTEM_ACCOUNTS.emission, amount: -1 },
        { account: other, amount: 1 },
      ],
    });
  }

  it('a payout whose paid-posting fails stays batched, and payouts_pending still matches the open payouts', async () => {
    const { payout } = await batchedPayout(700);
    await blockPosting(`payout:${payout.id}:paid`);
    expect(await rejectionOf(completePayout(db, payout.id))).toEqual({ status: 409, code: 'idempotency_conflict' });
    expect((await getPayout(db, payout.id))!.status).toBe('batched');
    await expectLedgerReconciles();
  });

  it('a cancelled payout whose refund fails stays queued, to be refunded by the retry', async () => {
    const accountId = await newFundedAccount(300);
    const { payout } = await requestWithdrawal(db, {
      accountId,
      amount: 300,
      destination: randomWallet(),
      idempotencyKey: `bk:${crypto.randomUUID()}`,
    });
    await blockPosting(`payout:${payout.id}:cancelled`);
    expect(await rejectionOf(cancelPayout(db, payout.id, 'invalid_recipient'))).toEqual({ status: 409, code: 'idempotency_conflict' });
    expect((await getPayout(db, payout.id))!.status).toBe('queued');
    expect(await balanceOf(accountId)).toBe(0);
    await expectLedgerReconciles();
  });

  it('reconciliation compares payouts_pending with the payouts still open', async () => {
    const { payout } = await batchedPayout(900);
    // What a crash between a separate status change and its posting used to leave behind.
    await env.DB.prepare(`UPDATE payouts SET status = 'paid' WHERE id = ?`).bind(payout.id).run();
    const report = await reconcileLedger(db);
    const check = report.checks.find((c) => c.name === 'payouts_pending_matches_open_payouts');
    expect(check).toMatchObject({ ok: false, violations: 1 });
    expect(check!.samples[0]).toMatchObject({ difference: 900 });
    expect(report.ok).toBe(false);
    // Finishing it (the retry posts the missing transaction) makes the two agree again.
    await completePayout(db, payout.id);
    await expectLedgerReconciles();
  });
});
