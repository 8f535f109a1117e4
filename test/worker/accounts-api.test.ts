import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
// Withdrawals look the destination's token account up on chain (Kit's crypto needs the flag this sets).
import './helpers/solana.ts';
import { app } from '../../workers/app.ts';
import { hashApiKey, revokeApiKey } from '../../workers/accounts/api-keys.ts';
import { errorOf } from './helpers/agent.ts';
import { expectLedgerReconciles, testDb } from './helpers/ledger.ts';
import { BASE, DEVELOPMENT, getWithKey, postJson, postJsonIn } from './helpers/wallet.ts';

const ADMIN = 'test-admin-token-0123456789';

async function devAccount(): Promise<{ accountId: string; apiKey: string; wallet: string }> {
  const res = await postJson('/v1/dev/accounts', {});
  expect(res.status).toBe(201);
  return res.json();
}

// The faucet exists only where ENVIRONMENT=development: the same Worker in that environment.
const faucet = (accountId: string, amount: string, key?: string) =>
  postJsonIn(DEVELOPMENT, '/v1/dev/faucet', { accountId, amount }, key ? { 'Idempotency-Key': key } : {});

const withdraw = (apiKey: string, body: unknown, key?: string) =>
  postJson('/v1/accounts/me/withdrawals', body, { authorization: `Bearer ${apiKey}`, ...(key ? { 'Idempotency-Key': key } : {}) });

const balance = async (apiKey: string) =>
  ((await (await getWithKey('/v1/accounts/me/balance', apiKey)).json()) as { balance: string }).balance;

describe('API keys', () => {
  it('refuses missing, malformed, unknown and revoked keys', async () => {
    const { accountId, apiKey } = await devAccount();
    expect(await errorOf(await app.request('/v1/accounts/me', {}, env))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await errorOf(await getWithKey('/v1/accounts/me', 'nope'))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await errorOf(await getWithKey('/v1/accounts/me', `gpk_${'A'.repeat(43)}`))).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    expect((await getWithKey('/v1/accounts/me', apiKey)).status).toBe(200);
    expect(await revokeApiKey(testDb(), accountId, await hashApiKey(apiKey))).toBe(true);
    expect(await errorOf(await getWithKey('/v1/accounts/me', apiKey))).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('records when a key was last used', async () => {
    const { apiKey } = await devAccount();
    await getWithKey('/v1/accounts/me', apiKey);
    await expect
      .poll(async () =>
        env.DB.prepare('SELECT last_used_at FROM api_keys WHERE hash = ?')
          .bind(await hashApiKey(apiKey))
          .first('last_used_at'),
      )
      .toBeGreaterThan(0);
  });
});

describe('development routes', () => {
  it('creates accounts with a dev wallet and mints through the ledger', async () => {
    const { accountId, apiKey, wallet } = await devAccount();
    expect(accountId).toMatch(/^acc_/);
    expect(wallet).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    const res = await faucet(accountId, '100');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ accountId, amount: '100.000000', balanceAfter: '100.000000' });
    expect(await balance(apiKey)).toBe('100.000000');
    const entries = (await (await getWithKey('/v1/accounts/me/entries', apiKey)).json()) as { entries: { kind: string; amount: string }[] };
    expect(entries.entries).toEqual([expect.objectContaining({ kind: 'mint', amount: '100.000000', memo: 'development faucet' })]);
    await expectLedgerReconciles();
  });

  it('honours Idempotency-Key on the faucet: same request once, other parameters refused', async () => {
    const { accountId, apiKey } = await devAccount();
    const first = await faucet(accountId, '5', 'faucet-key-1');
    const again = await faucet(accountId, '5', 'faucet-key-1');
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect(((await again.json()) as { transactionId: string }).transactionId).toBe(
      ((await first.json()) as { transactionId: string }).transactionId,
    );
    expect(await errorOf(await faucet(accountId, '6', 'faucet-key-1'))).toMatchObject({ status: 409, code: 'idempotency_conflict' });
    expect(await balance(apiKey)).toBe('5.000000');
    // Without a key every request is its own.
    await faucet(accountId, '1');
    await faucet(accountId, '1');
    expect(await balance(apiKey)).toBe('7.000000');
  });

  it('rejects bad faucet input', async () => {
    const { accountId } = await devAccount();
    expect(await errorOf(await faucet(accountId, '0'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await faucet(accountId, '-1'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await faucet(accountId, '1.0000001'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await faucet(accountId, '1000001'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await faucet('system:treasury', '1'))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await faucet(`acc_${'0'.repeat(32)}`, '1'))).toMatchObject({ status: 404, code: 'account_not_found' });
    expect(await errorOf(await faucet(accountId, '1', 'has space'))).toMatchObject({ status: 400, code: 'invalid_idempotency_key' });
  });

  it('the faucet mints only in development: in test (these bindings) it is 404 and changes nothing', async () => {
    const { accountId } = await devAccount();
    const before = await env.DB.prepare('SELECT count(*) AS n FROM ledger_transactions').first('n');
    const res = await postJson('/v1/dev/faucet', { accountId, amount: '1' });
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'There is no route POST /v1/dev/faucet.' } });
    expect(res.status).toBe(404);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM ledger_transactions').first('n')).toBe(before);
    expect(await env.DB.prepare('SELECT balance FROM accounts WHERE id = ?').bind(accountId).first('balance')).toBe(0);
    expect((await faucet(accountId, '1')).status).toBe(201);
  });

  it('does not exist in production: 404 exactly like an unknown route', async () => {
    const prod = { ...env, ENVIRONMENT: 'production' };
    const request = (path: string, body: unknown) =>
      app.fetch(
        new Request(`${BASE}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        prod,
      );
    const before = await env.DB.prepare("SELECT count(*) AS n FROM accounts WHERE kind = 'user'").first('n');
    const accounts = await request('/v1/dev/accounts', {});
    expect(accounts.status).toBe(404);
    expect(await accounts.json()).toEqual({ error: { code: 'not_found', message: 'There is no route POST /v1/dev/accounts.' } });
    const { accountId } = await devAccount();
    const minted = await request('/v1/dev/faucet', { accountId, amount: '1' });
    expect(await errorOf(minted)).toMatchObject({ status: 404, code: 'not_found' });
    const unknown = await request('/v1/nothing-here', {});
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect(await env.DB.prepare("SELECT count(*) AS n FROM accounts WHERE kind = 'user'").first('n')).toBe((before as number) + 1);
    expect(await env.DB.prepare('SELECT balance FROM accounts WHERE id = ?').bind(accountId).first('balance')).toBe(0);
  });
});

describe('balance and entries', () => {
  it('pages entries newest first with a cursor', async () => {
    const { accountId, apiKey } = await devAccount();
    for (let i = 1; i <= 5; i++) expect((await faucet(accountId, String(i))).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await getWithKey(`/v1/accounts/me/entries?limit=2${cursor ? `&cursor=${cursor}` : ''}`, apiKey);
      const page = (await res.json()) as { entries: { amount: string; balanceAfter: string }[]; nextCursor: string | null };
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e) => `${e.amount}/${e.balanceAfter}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['5.000000/15.000000', '4.000000/10.000000', '3.000000/6.000000', '2.000000/3.000000', '1.000000/1.000000']);
    expect(await errorOf(await getWithKey('/v1/accounts/me/entries?cursor=abc', apiKey))).toMatchObject({ status: 400 });
    expect(await errorOf(await getWithKey('/v1/accounts/me/entries?limit=1000', apiKey))).toMatchObject({ status: 400 });
    const bal = (await (await getWithKey('/v1/accounts/me/balance', apiKey)).json()) as Record<string, string>;
    expect(bal).toEqual({ accountId, balance: '15.000000', baseUnits: '15000000' });
  });
});

describe('withdrawals', () => {
  it('moves funds to payouts_pending and queues a payout, idempotently', async () => {
    const { accountId, apiKey, wallet } = await devAccount();
    await faucet(accountId, '10');
    const res = await withdraw(apiKey, { amount: '4' }, 'w-1');
    expect(res.status).toBe(201);
    const { payout } = (await res.json()) as { payout: Record<string, string> };
    expect(payout).toMatchObject({ amount: '4.000000', destination: wallet, status: 'queued' });
    const again = await withdraw(apiKey, { amount: '4' }, 'w-1');
    expect(again.status).toBe(200);
    expect(((await again.json()) as { payout: { id: string } }).payout.id).toBe(payout.id);
    expect(await errorOf(await withdraw(apiKey, { amount: '5' }, 'w-1'))).toMatchObject({ status: 409, code: 'idempotency_conflict' });
    const other = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';
    expect(await errorOf(await withdraw(apiKey, { amount: '4', destination: other }, 'w-1'))).toMatchObject({ status: 409 });
    expect((await withdraw(apiKey, { amount: '1', destination: other }, 'w-2')).status).toBe(201);
    expect(await balance(apiKey)).toBe('5.000000');
    const pending = await env.DB.prepare(
      "SELECT count(*) AS n, sum(amount) AS total FROM payouts WHERE account_id = ? AND status = 'queued'",
    )
      .bind(accountId)
      .first();
    expect(pending).toEqual({ n: 2, total: 5_000_000 });
    const list = (await (await getWithKey('/v1/accounts/me/withdrawals', apiKey)).json()) as { payouts: { destination: string }[] };
    expect(list.payouts.map((p) => p.destination).sort()).toEqual([other, wallet].sort());
    await expectLedgerReconciles();
  });

  it('refuses overdrafts and bad input, changing nothing', async () => {
    const { accountId, apiKey } = await devAccount();
    await faucet(accountId, '1');
    expect(await errorOf(await withdraw(apiKey, { amount: '1.000001' }))).toMatchObject({ status: 402, code: 'insufficient_funds' });
    expect(await errorOf(await withdraw(apiKey, { amount: '0' }))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await withdraw(apiKey, { amount: 1 }))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await withdraw(apiKey, { amount: '1', destination: 'nope' }))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    });
    expect(await errorOf(await postJson('/v1/accounts/me/withdrawals', { amount: '1' }))).toMatchObject({ status: 401 });
    expect(await balance(apiKey)).toBe('1.000000');
    expect(await env.DB.prepare('SELECT count(*) AS n FROM payouts WHERE account_id = ?').bind(accountId).first('n')).toBe(0);
  });
});

describe('admin reconciliation route', () => {
  it('needs the admin token and reports every check', async () => {
    expect((await app.request('/v1/admin/ledger/reconcile', {}, env)).status).toBe(401);
    const { accountId } = await devAccount();
    await faucet(accountId, '3');
    const res = await app.request('/v1/admin/ledger/reconcile', { headers: { authorization: `Bearer ${ADMIN}` } }, env);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { ok: boolean; checks: { name: string; ok: boolean }[]; totals: Record<string, unknown> };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'transactions_balance',
      'balances_match_entries',
      'no_negative_balances',
      'supply_matches_mint_and_burn',
      'payouts_pending_matches_open_payouts',
    ]);
    expect(report.totals.supply).toBe(report.totals.minted);
  });
});
