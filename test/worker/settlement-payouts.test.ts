import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { saveBatch } from '../../workers/settlement/payout-run.ts';
import { newPayoutBatch } from '../../workers/settlement/payouts.ts';
import { balanceOf, expectLedgerReconciles, testDb } from './helpers/ledger.ts';
import { chainControl, newChainWallet, runCron, sendCount, tokenAccountOf, tokenBalance, transactionsOf } from './helpers/solana.ts';
import { batchesOf, fundedAccount, TOKEN, withdrawalsOf, withdrawArriving } from './helpers/payouts.ts';

// Withdrawals end to end: requested through the API, batched by the cron into legacy
// transactions signed by the treasury, executed by litesvm behind the JSON-RPC server, settled in
// the ledger only at `finalized`. "Paid once" is checked on chain: each recipient's token balance
// and the transactions that touched its token account. The RPC server's switches act only on
// transactions touching the token account they name, so other test files are not disturbed.

type Withdrawal = Awaited<ReturnType<typeof withdrawArriving>>;

async function statusesOf(payoutIds: string[]): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT DISTINCT status FROM payouts WHERE id IN (SELECT value FROM json_each(?1))')
    .bind(JSON.stringify(payoutIds))
    .all<{ status: string }>();
  return results.map((r) => r.status).sort();
}

/** Every recipient holds exactly its amount, and exactly one transaction of `signatures` touched its token account. */
async function expectPaidOnceOnChain(withdrawals: Withdrawal[], signatures: string[]): Promise<void> {
  for (const w of withdrawals) {
    expect(await tokenBalance(w.destination), w.destination).toBe(w.amount);
    const touching = (await transactionsOf(await tokenAccountOf(w.destination))).filter((t) => signatures.includes(t.signature));
    expect(touching, w.destination).toHaveLength(1);
    expect(touching[0]!.err).toBeNull();
  }
}

async function expectSettled(): Promise<void> {
  expect(await balanceOf(SYSTEM_ACCOUNTS.payoutsPending)).toBe(0);
  await expectLedgerReconciles();
}

describe('payout batches', () => {
  it('pays 25 withdrawals in legacy transactions of at most 20, marks them paid only at finalized, each exactly once', async () => {
    const accounts = await Promise.all(Array.from({ length: 5 }, () => fundedAccount('1000')));
    const recipients = await Promise.all(Array.from({ length: 25 }, () => newChainWallet({ tokenAccount: true })));
    const tokenAccounts = await Promise.all(recipients.map(tokenAccountOf));
    for (const account of tokenAccounts) await chainControl('holdFinality', { account });
    const withdrawals: Withdrawal[] = [];
    // 20 then 5, a run apart: each run's queue fits one legacy transaction, so no lookup table is
    // worth making (25 queued at once would go in one v0 transaction: settlement-payouts-v0.test.ts).
    for (const [i, recipient] of recipients.entries()) {
      if (i === 20) await runCron(); // plan, sign, broadcast the first 20
      withdrawals.push(await withdrawArriving(accounts[i % 5]!, recipient, BigInt(i + 1) * TOKEN + BigInt(i)));
    }
    const ids = withdrawals.map((w) => w.id);

    await runCron(); // plan, sign, broadcast the other 5
    const batches = await batchesOf(ids);
    expect(batches.map((b) => b.payouts)).toEqual([20, 5]);
    expect(batches.every((b) => b.state === 'sent' && b.attempt === 1 && b.signature !== null)).toBe(true);
    // Landed (the tokens are there at `confirmed`), not final: nothing is paid in the ledger yet.
    expect(await tokenBalance(recipients[0]!)).toBe(withdrawals[0]!.amount);
    await runCron();
    expect(await statusesOf(ids)).toEqual(['batched']);
    expect((await withdrawalsOf(accounts[0]!)).every((p) => p.status === 'batched' && p.signature === null)).toBe(true);
    expect(await balanceOf(SYSTEM_ACCOUNTS.payoutsPending)).toBe(Number(withdrawals.reduce((s, w) => s + w.amount, 0n)));

    for (const account of tokenAccounts) await chainControl('releaseFinality', { account });
    await runCron();
    expect(await statusesOf(ids)).toEqual(['paid']);
    const signatures = (await batchesOf(ids)).map((b) => b.signature!);
    await expectPaidOnceOnChain(withdrawals, signatures);
    for (const signature of signatures) expect(await sendCount(signature)).toBe(1);

    const bySignature = new Map((await batchesOf(ids)).map((b) => [b.id, b.signature]));
    const views = await withdrawalsOf(accounts[1]!);
    expect(views).toHaveLength(5);
    for (const view of views) {
      expect(view.status).toBe('paid');
      expect([...bySignature.values()]).toContain(view.signature);
    }
    await expectSettled();
  });

  it('a send that times out after broadcast is not sent again and not re-signed: paid once', async () => {
    const account = await fundedAccount('100');
    const recipients = await Promise.all(Array.from({ length: 3 }, () => newChainWallet({ tokenAccount: true })));
    const withdrawals = await Promise.all(recipients.map((r, i) => withdrawArriving(account, r, 7n * TOKEN + BigInt(i))));
    const ids = withdrawals.map((w) => w.id);
    const watched = await tokenAccountOf(recipients[0]!);
    await chainControl('timeoutNextSend', { account: watched });
    await chainControl('holdFinality', { account: watched });

    await runCron(); // the send executes on chain, then the RPC never answers: the client times out
    const [signed] = await batchesOf(ids);
    expect(signed).toMatchObject({ state: 'signed', attempt: 1, payouts: 3 });
    expect((await transactionsOf(watched)).map((t) => t.signature)).toContain(signed!.signature);

    await runCron(); // landed but not final: wait, never sign anything else for this batch
    const [waiting] = await batchesOf(ids);
    expect(waiting).toMatchObject({ state: 'signed', attempt: 1, signature: signed!.signature });
    expect(await statusesOf(ids)).toEqual(['batched']);

    await chainControl('releaseFinality', { account: watched });
    await runCron();
    const [paid] = await batchesOf(ids);
    expect(paid).toMatchObject({ state: 'paid', attempt: 1, signature: signed!.signature });
    expect(await statusesOf(ids)).toEqual(['paid']);
    expect(await sendCount(signed!.signature!)).toBe(1);
    await expectPaidOnceOnChain(withdrawals, [signed!.signature!]);
    const attempts = await env.DB.prepare('SELECT count(*) AS n FROM payout_batch_attempts WHERE batch_id = ?')
      .bind(paid!.id)
      .first<{ n: number }>();
    expect(attempts?.n).toBe(1);
    await expectSettled();
  });

  it('a dropped transaction is re-signed only after its blockhash expired, and paid once', async () => {
    const account = await fundedAccount('100');
    const recipients = await Promise.all(Array.from({ length: 2 }, () => newChainWallet({ tokenAccount: true })));
    const withdrawals = await Promise.all(recipients.map((r, i) => withdrawArriving(account, r, 3n * TOKEN + BigInt(i))));
    const ids = withdrawals.map((w) => w.id);
    const watched = await tokenAccountOf(recipients[0]!);
    await chainControl('dropNextSend', { account: watched });

    await runCron(); // the node says it took it, but the transaction is lost
    const [sent] = await batchesOf(ids);
    expect(sent).toMatchObject({ state: 'sent', attempt: 1 });
    const lost = sent!.signature!;
    expect((await transactionsOf(watched)).map((t) => t.signature)).not.toContain(lost);

    await chainControl('expireBlockhash'); // the finalized chain moves past its lastValidBlockHeight
    await runCron(); // provably dead and unknown: sign a new transaction and send it
    await runCron();
    const [paid] = await batchesOf(ids);
    expect(paid).toMatchObject({ state: 'paid' });
    expect(paid!.attempt).toBeGreaterThanOrEqual(2);
    expect(paid!.signature).not.toBe(lost);
    expect(await statusesOf(ids)).toEqual(['paid']);

    const { results: attempts } = await env.DB.prepare(
      'SELECT attempt, signature FROM payout_batch_attempts WHERE batch_id = ? ORDER BY attempt',
    )
      .bind(paid!.id)
      .all<{ attempt: number; signature: string }>();
    expect(attempts.map((a) => a.attempt)).toEqual(Array.from({ length: paid!.attempt }, (_, i) => i + 1));
    expect(attempts[0]!.signature).toBe(lost);
    expect(attempts.at(-1)!.signature).toBe(paid!.signature);
    // Every signature ever made for the batch: exactly one of them is on chain.
    await expectPaidOnceOnChain(
      withdrawals,
      attempts.map((a) => a.signature),
    );
    expect(await sendCount(lost)).toBe(1); // the dead transaction was never broadcast again
    await expectSettled();
  });

  it('overlapping cron runs put each payout in one batch and sign it once, creating missing token accounts', async () => {
    const account = await fundedAccount('100');
    const withAccounts = await Promise.all(Array.from({ length: 3 }, () => newChainWallet({ tokenAccount: true })));
    const without = await Promise.all(Array.from({ length: 3 }, () => chainControl<string>('newAddress')));
    const withdrawals: Withdrawal[] = [];
    for (const [i, r] of [...withAccounts, ...without].entries())
      withdrawals.push(await withdrawArriving(account, r, 2n * TOKEN + BigInt(i)));
    const ids = withdrawals.map((w) => w.id);

    await Promise.all([runCron(), runCron(), runCron()]);
    for (let i = 0; i < 5 && (await statusesOf(ids)).join() !== 'paid'; i++) await runCron();
    expect(await statusesOf(ids)).toEqual(['paid']);

    const batches = await batchesOf(ids);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ payouts: 6, attempt: 1, state: 'paid' });
    const empty = await env.DB.prepare(
      'SELECT count(*) AS n FROM payout_batches b WHERE NOT EXISTS (SELECT 1 FROM payouts p WHERE p.batch_id = b.id)',
    ).first<{ n: number }>();
    expect(empty?.n).toBe(0); // batches that lost every payout to another run were removed in the same D1 batch
    await expectPaidOnceOnChain(withdrawals, [batches[0]!.signature!]);
    await expectSettled();
  });

  it('the batch save is a compare-and-swap: of two concurrent signings of one batch, one is stored', async () => {
    const db = testDb();
    const id = `pb_cas_${crypto.randomUUID()}`;
    await env.DB.prepare(`INSERT INTO payout_batches (id, state, attempt, created_at, updated_at) VALUES (?1, 'queued', 0, 0, 0)`)
      .bind(id)
      .run();
    const queued = newPayoutBatch(id);
    const signedAs = (signature: string) => ({
      ...queued,
      state: 'signed' as const,
      attempt: 1,
      signature,
      wireTransaction: 'AA==',
      blockhash: 'b',
      lastValidBlockHeight: 10,
    });
    const results = await Promise.all([saveBatch(db, signedAs('sig-a'), queued, 1), saveBatch(db, signedAs('sig-b'), queued, 1)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const { results: attempts } = await env.DB.prepare('SELECT signature FROM payout_batch_attempts WHERE batch_id = ?')
      .bind(id)
      .all<{ signature: string }>();
    const row = await env.DB.prepare('SELECT signature, attempt FROM payout_batches WHERE id = ?')
      .bind(id)
      .first<{ signature: string; attempt: number }>();
    expect(row?.attempt).toBe(1);
    expect(attempts.map((a) => a.signature)).toEqual([row!.signature]); // the loser wrote no audit row either
    expect(await saveBatch(db, { ...signedAs('sig-c'), attempt: 2 }, queued, 2)).toBe(false); // stale expectation
  });
});
