import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
// Withdrawals look the destination's token account up on chain (Kit's crypto needs the flag this sets).
import './helpers/solana.ts';
import { creditDeposit } from '../../workers/ledger/deposits.ts';
import { balanceOf, expectLedgerReconciles, mintTo, newFundedAccount, randomSignature, testDb } from './helpers/ledger.ts';
import { DEVELOPMENT, getWithKey, postJson, postJsonIn } from './helpers/wallet.ts';

// The requests really interleave inside workerd: every call awaits D1, so dozens are in flight
// at once and only SQL (UNIQUE, CHECK, one batch per transaction) keeps them apart.

describe('concurrency', () => {
  it('credits one deposit signature exactly once under 100 concurrent credits', async () => {
    const db = testDb();
    const accountId = await newFundedAccount();
    const signature = randomSignature();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => creditDeposit(db, { signature, accountId, amount: 2_500_000, reference: 'ref-1', slot: 42 })),
    );
    expect(results.filter((r) => r.credited)).toHaveLength(1);
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(1);
    expect(await balanceOf(accountId)).toBe(2_500_000);
    const rows = await env.DB.batch([
      env.DB.prepare('SELECT count(*) AS n FROM deposits WHERE signature = ?').bind(signature),
      env.DB.prepare("SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'deposit' AND idempotency_key = ?").bind(
        `deposit:${signature}`,
      ),
    ]);
    expect(rows.map((r) => r.results[0])).toEqual([{ n: 1 }, { n: 1 }]);
    await expectLedgerReconciles();
  });

  it('lets exactly 10 of 50 concurrent withdrawals through when the balance covers 10', async () => {
    const created = (await (await postJson('/v1/dev/accounts', {})).json()) as { accountId: string; apiKey: string };
    await mintTo(created.accountId, 10_000_000);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        postJson(
          '/v1/accounts/me/withdrawals',
          { amount: '1' },
          { authorization: `Bearer ${created.apiKey}`, 'Idempotency-Key': `race-${i}` },
        ),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(40);
    expect(await balanceOf(created.accountId)).toBe(0);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM payouts WHERE account_id = ?').bind(created.accountId).first('n')).toBe(10);
    const min = await env.DB.prepare('SELECT min(balance_after) AS m FROM ledger_entries WHERE account_id = ?')
      .bind(created.accountId)
      .first('m');
    expect(min).toBe(0);
    const balance = (await (await getWithKey('/v1/accounts/me/balance', created.apiKey)).json()) as { balance: string };
    expect(balance.balance).toBe('0.000000');
    await expectLedgerReconciles();
  });

  it('mints once for 100 concurrent faucet requests with one Idempotency-Key', async () => {
    const created = (await (await postJson('/v1/dev/accounts', {})).json()) as { accountId: string; apiKey: string };
    const responses = await Promise.all(
      // The faucet exists only where ENVIRONMENT=development: the same Worker in that environment.
      Array.from({ length: 100 }, () =>
        postJsonIn(DEVELOPMENT, '/v1/dev/faucet', { accountId: created.accountId, amount: '7' }, { 'Idempotency-Key': 'one-mint' }),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(99);
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { transactionId: string }).transactionId)));
    expect(ids.size).toBe(1);
    expect(await balanceOf(created.accountId)).toBe(7_000_000);
    await expectLedgerReconciles();
  });
});
