// Over 300 lines: the ledger's core rules, one describe per rule, sharing the accounts each creates; split, each file would redo the setup.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { payouts } from '../../db/schema.ts';
import { escrowAccount, SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { getTransactionByKey, listEntries, postTransaction } from '../../workers/ledger/ledger.repo.ts';
import { reconcileLedger } from '../../workers/ledger/reconcile.ts';
import { balanceOf, expectLedgerReconciles, newFundedAccount, testDb, rejectionOf } from './helpers/ledger.ts';

const db = testDb();
const { emission, burn, fees, treasury } = SYSTEM_ACCOUNTS;

const tableCounts = async () =>
  JSON.stringify(
    await env.DB.batch([
      env.DB.prepare('SELECT count(*) AS n FROM ledger_transactions'),
      env.DB.prepare('SELECT count(*) AS n FROM ledger_entries'),
      env.DB.prepare('SELECT id, balance FROM accounts ORDER BY id'),
    ]).then((r) => r.map((x) => x.results)),
  );

describe('postTransaction', () => {
  it('posts a balanced transaction, applies balances, and records balance_after', async () => {
    const alice = await newFundedAccount(1_000);
    const bob = await newFundedAccount();
    const tx = await postTransaction(db, {
      kind: 'grant',
      idempotencyKey: 'core:grant-1',
      entries: [
        { account: alice, amount: -400 },
        { account: bob, amount: 400 },
      ],
      memo: 'hello',
      ref: 'test:1',
    });
    expect(tx.replayed).toBe(false);
    expect(tx.entries.map((e) => [e.account, e.amount, e.balanceAfter]).sort()).toEqual(
      [
        [alice, -400, 600],
        [bob, 400, 400],
      ].sort(),
    );
    expect(await balanceOf(alice)).toBe(600);
    expect(await balanceOf(bob)).toBe(400);
    const lines = await listEntries(db, alice, { limit: 10 });
    expect(lines.map((l) => [l.kind, l.amount, l.balanceAfter])).toEqual([
      ['grant', -400, 600],
      ['mint', 1000, 1000],
    ]);
    await expectLedgerReconciles();
  });

  it('returns the first result for a retry with the same key and parameters', async () => {
    const alice = await newFundedAccount(100);
    const input = {
      kind: 'burn' as const,
      idempotencyKey: 'core:burn-retry',
      entries: [
        { account: alice, amount: -10 },
        { account: burn, amount: 10 },
      ],
    };
    const first = await postTransaction(db, input);
    const again = await postTransaction(db, { ...input, entries: [...input.entries].reverse() });
    expect(again.id).toBe(first.id);
    expect(again.replayed).toBe(true);
    expect(again.entries).toEqual(first.entries);
    expect(await balanceOf(alice)).toBe(90);
  });

  it('rejects the same key with different parameters (409) and changes nothing', async () => {
    const alice = await newFundedAccount(100);
    await postTransaction(db, {
      kind: 'fee',
      idempotencyKey: 'core:fee',
      entries: [
        { account: alice, amount: -5 },
        { account: fees, amount: 5 },
      ],
    });
    const before = await tableCounts();
    expect(
      await rejectionOf(
        postTransaction(db, {
          kind: 'fee',
          idempotencyKey: 'core:fee',
          entries: [
            { account: alice, amount: -6 },
            { account: fees, amount: 6 },
          ],
        }),
      ),
    ).toEqual({ status: 409, code: 'idempotency_conflict' });
    expect(
      await rejectionOf(
        postTransaction(db, {
          kind: 'fee',
          idempotencyKey: 'core:fee',
          entries: [
            { account: alice, amount: -5 },
            { account: fees, amount: 5 },
          ],
          memo: 'x',
        }),
      ),
    ).toEqual({ status: 409, code: 'idempotency_conflict' });
    expect(await tableCounts()).toBe(before);
  });

  it('refuses overdrafts in SQL: the whole batch rolls back', async () => {
    const alice = await newFundedAccount(50);
    const bob = await newFundedAccount();
    const before = await tableCounts();
    expect(
      await rejectionOf(
        postTransaction(db, {
          kind: 'grant',
          idempotencyKey: 'core:over',
          entries: [
            { account: alice, amount: -51 },
            { account: bob, amount: 51 },
          ],
        }),
      ),
    ).toEqual({ status: 402, code: 'insufficient_funds' });
    expect(await tableCounts()).toBe(before);
    // The key was not used up by the failure.
    expect(await getTransactionByKey(db, 'core:over')).toBeNull();
  });

  it('rolls back when a statement passed in `with` fails', async () => {
    const alice = await newFundedAccount(50);
    const before = await tableCounts();
    await expect(
      postTransaction(
        db,
        {
          kind: 'fee',
          idempotencyKey: 'core:with-fail',
          entries: [
            { account: alice, amount: -1 },
            { account: fees, amount: 1 },
          ],
        },
        {
          // Violates payouts_amount_positive, after the entries have been applied in the batch.
          with: (txId, at) => [
            db
              .insert(payouts)
              .values({ id: 'po_x', accountId: alice, destination: alice, amount: -1, ledgerTxId: txId, createdAt: at, updatedAt: at }),
          ],
        },
      ),
    ).rejects.toThrow(/payouts_amount_positive/);
    expect(await tableCounts()).toBe(before);
  });

  it('refuses unknown accounts, unbalanced and malformed transactions', async () => {
    const alice = await newFundedAccount(50);
    const before = await tableCounts();
    const cases: [Parameters<typeof postTransaction>[1], number, string][] = [
      [
        {
          kind: 'grant',
          idempotencyKey: 'k1',
          entries: [
            { account: alice, amount: -1 },
            { account: 'acc_00000000000000000000000000000000', amount: 1 },
          ],
        },
        404,
        'account_not_found',
      ],
      [
        {
          kind: 'grant',
          idempotencyKey: 'k2',
          entries: [
            { account: alice, amount: -1 },
            { account: fees, amount: 2 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'grant',
          idempotencyKey: 'k3',
          entries: [
            { account: alice, amount: 0 },
            { account: fees, amount: 0 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'grant',
          idempotencyKey: 'k4',
          entries: [
            { account: alice, amount: 1.5 },
            { account: fees, amount: -1.5 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'grant',
          idempotencyKey: 'k5',
          entries: [
            { account: alice, amount: -1 },
            { account: alice, amount: 1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'grant',
          idempotencyKey: 'k6',
          entries: [
            { account: 'bob', amount: -1 },
            { account: fees, amount: 1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'grant',
          idempotencyKey: '',
          entries: [
            { account: alice, amount: -1 },
            { account: fees, amount: 1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'nope' as never,
          idempotencyKey: 'k7',
          entries: [
            { account: alice, amount: -1 },
            { account: fees, amount: 1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      // Supply and the chain boundary move only with their own kinds.
      [
        {
          kind: 'grant',
          idempotencyKey: 'k8',
          entries: [
            { account: emission, amount: -1 },
            { account: alice, amount: 1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'fee',
          idempotencyKey: 'k9',
          entries: [
            { account: alice, amount: -1 },
            { account: burn, amount: 1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'grant',
          idempotencyKey: 'k10',
          entries: [
            { account: treasury, amount: -1 },
            { account: alice, amount: 1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
      [
        {
          kind: 'mint',
          idempotencyKey: 'k11',
          entries: [
            { account: emission, amount: 1 },
            { account: alice, amount: -1 },
          ],
        },
        400,
        'invalid_transaction',
      ],
    ];
    for (const [input, status, code] of cases) {
      expect(await rejectionOf(postTransaction(db, input)), JSON.stringify(input)).toEqual({ status, code });
    }
    expect(await tableCounts()).toBe(before);
  });

  it('holds, captures and refunds through a per-job escrow account that cannot go negative', async () => {
    const renter = await newFundedAccount(1_000);
    const operator = await newFundedAccount();
    const escrow = escrowAccount('job_abc');
    await postTransaction(db, {
      kind: 'escrow_hold',
      idempotencyKey: 'job_abc:hold',
      entries: [
        { account: renter, amount: -600 },
        { account: escrow, amount: 600 },
      ],
      ref: 'job:job_abc',
    });
    expect(await balanceOf(escrow)).toBe(600);
    await postTransaction(db, {
      kind: 'capture',
      idempotencyKey: 'job_abc:capture',
      entries: [
        { account: escrow, amount: -450 },
        { account: operator, amount: 400 },
        { account: fees, amount: 50 },
      ],
      ref: 'job:job_abc',
    });
    // More than is left in escrow cannot be captured or refunded.
    expect(
      await rejectionOf(
        postTransaction(db, {
          kind: 'refund',
          idempotencyKey: 'job_abc:refund-too-much',
          entries: [
            { account: escrow, amount: -151 },
            { account: renter, amount: 151 },
          ],
        }),
      ),
    ).toEqual({ status: 402, code: 'insufficient_funds' });
    await postTransaction(db, {
      kind: 'refund',
      idempotencyKey: 'job_abc:refund',
      entries: [
        { account: escrow, amount: -150 },
        { account: renter, amount: 150 },
      ],
    });
    expect([await balanceOf(renter), await balanceOf(operator), await balanceOf(escrow)]).toEqual([550, 400, 0]);
    const kind = await env.DB.prepare('SELECT kind FROM accounts WHERE id = ?').bind(escrow).first('kind');
    expect(kind).toBe('escrow');
    await expectLedgerReconciles();
  });

  it('keeps entries and transactions append-only', async () => {
    await newFundedAccount(10);
    await expect(env.DB.prepare('UPDATE ledger_entries SET amount = amount + 1').run()).rejects.toThrow(/ledger_append_only/);
    await expect(env.DB.prepare('DELETE FROM ledger_entries').run()).rejects.toThrow(/ledger_append_only/);
    await expect(env.DB.prepare("UPDATE ledger_transactions SET memo = 'x'").run()).rejects.toThrow(/ledger_append_only/);
    await expect(env.DB.prepare('DELETE FROM ledger_transactions').run()).rejects.toThrow(/ledger_append_only/);
  });
});

describe('reconcileLedger', () => {
  it('reports a drifted balance, an unbalanced transaction and supply changed outside mint/burn', async () => {
    const alice = await newFundedAccount(100);
    const ok = await expectLedgerReconciles();
    expect(ok.totals.minted - ok.totals.burned).toBe(ok.totals.supply);

    // Corrupt the ledger behind the API's back, the way a bug or a manual edit could.
    await env.DB.prepare('UPDATE accounts SET balance = balance + 7 WHERE id = ?').bind(alice).run();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO ledger_transactions (id, kind, idempotency_key, params_hash, created_at) VALUES ('tx_bad', 'grant', 'bad', 'x', 0)",
      ),
      env.DB.prepare(
        "INSERT INTO ledger_entries (tx_id, account_id, amount, balance_after, created_at) VALUES ('tx_bad', ?, 3, 0, 0)",
      ).bind(alice),
      env.DB.prepare(
        "INSERT INTO ledger_entries (tx_id, account_id, amount, balance_after, created_at) VALUES ('tx_bad', 'system:emission', -1, 0, 0)",
      ),
    ]);
    const report = await reconcileLedger(db);
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName.transactions_balance).toMatchObject({ ok: false, violations: 1, samples: [{ txId: 'tx_bad', total: 2 }] });
    expect(byName.balances_match_entries).toMatchObject({ ok: false, violations: 1, samples: [{ accountId: alice }] });
    expect(byName.no_negative_balances!.ok).toBe(true);
    expect(byName.supply_matches_mint_and_burn!.ok).toBe(false);
  });
});
