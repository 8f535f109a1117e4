import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../workers/app.ts';
import { KNOWN_GENESIS_HASHES } from '../../workers/settlement/config.ts';
import { errorOf } from './helpers/agent.ts';
import { expectLedgerReconciles } from './helpers/ledger.ts';
import { authed, chainWorld, devAccount, newChainWallet, pay, runCron, type ChainWorld, type DevAccount } from './helpers/solana.ts';
import { getWithKey, postJson } from './helpers/wallet.ts';

// Deposits end to end: the Worker hands out a Solana Pay transfer request, a wallet pays it with
// a real transaction executed by litesvm, and the check route and the cron find it over JSON-RPC
// and credit it through the ledger, once per signature, whatever overlaps.

let world: ChainWorld;
beforeAll(async () => {
  world = await chainWorld();
});

const TOKEN = 1_000_000n; // 6 decimals

interface DepositRequest {
  reference: string;
  recipient: string;
  tokenAccount: string;
  mint: string;
  url: string;
  amount: string | null;
  status: string;
}

interface CheckResult {
  reference: string;
  status: string;
  creditedNow: string;
  decisions: { signature: string; outcome: string; reason: string | null; amount: string | null }[];
  deposits: { signature: string; status: string; amount: string | null; reason: string | null; detail: string | null }[];
}

async function requestDeposit(account: DevAccount, body: unknown = {}): Promise<DepositRequest> {
  const res = await postJson('/v1/accounts/me/deposits', body, authed(account.apiKey));
  expect(res.status).toBe(201);
  return (await res.json()) as DepositRequest;
}

async function check(account: DevAccount, reference: string): Promise<CheckResult> {
  const res = await postJson(`/v1/accounts/me/deposits/${reference}/check`, {}, authed(account.apiKey));
  expect(res.status).toBe(200);
  return (await res.json()) as CheckResult;
}

async function balance(account: DevAccount): Promise<string> {
  const res = await getWithKey('/v1/accounts/me/balance', account.apiKey);
  return ((await res.json()) as { balance: string }).balance;
}

describe('deposit requests', () => {
  it('hand out the treasury token account and a fresh reference, stored for the account', async () => {
    const account = await devAccount();
    const a = await requestDeposit(account, { amount: '2.5' });
    const b = await requestDeposit(account);
    expect(a).toMatchObject({
      recipient: world.treasury,
      tokenAccount: world.treasuryTokenAccount,
      mint: world.mint,
      amount: '2.500000',
      status: 'open',
    });
    expect(a.url).toBe(
      `solana:${world.treasury}?amount=2.5&spl-token=${world.mint}&reference=${a.reference}&label=gridplane&message=Deposit%20to%20your%20gridplane%20balance`,
    );
    expect(b.amount).toBeNull();
    expect(b.url).not.toContain('amount=');
    expect(b.reference).not.toBe(a.reference);

    const list = (await (await getWithKey('/v1/accounts/me/deposits', account.apiKey)).json()) as {
      references: { reference: string }[];
      deposits: unknown[];
    };
    expect(list.references.map((r) => r.reference).sort()).toEqual([a.reference, b.reference].sort());
    expect(list.deposits).toEqual([]);
  });

  it('refuse bad input, unknown references and other accounts’ references, changing nothing', async () => {
    const account = await devAccount();
    const other = await devAccount();
    const unauth = await postJson('/v1/accounts/me/deposits', {});
    expect(unauth.status).toBe(401);
    for (const body of [{ amount: '0' }, { amount: '-1' }, { amount: '1.0000001' }, { amount: 5 }, { extra: true }]) {
      const res = await postJson('/v1/accounts/me/deposits', body, authed(account.apiKey));
      expect((await errorOf(res)).code, JSON.stringify(body)).toBe('invalid_request');
    }
    const mine = await requestDeposit(account);
    const theirs = await postJson(`/v1/accounts/me/deposits/${mine.reference}/check`, {}, authed(other.apiKey));
    expect(await errorOf(theirs)).toMatchObject({ status: 404, code: 'not_found' });
    const bad = await postJson('/v1/accounts/me/deposits/not-a-reference/check', {}, authed(account.apiKey));
    expect(await errorOf(bad)).toMatchObject({ status: 400, code: 'invalid_request' });
    const list = (await (await getWithKey('/v1/accounts/me/deposits', account.apiKey)).json()) as { references: unknown[] };
    expect(list.references).toHaveLength(1);
  });
});

describe('crediting a Solana Pay deposit', () => {
  it('credits exactly the amount once, through five concurrent checks', async () => {
    const account = await devAccount();
    const request = await requestDeposit(account, { amount: '2.5' });
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    const payment = await pay(payer, 2_500_000n, { reference: request.reference });
    expect(payment).toMatchObject({ landed: true, err: null });

    const checks = await Promise.all(Array.from({ length: 5 }, () => check(account, request.reference)));
    // Exactly one of them credited it; the others saw it decided (or decided it as already credited).
    expect(checks.map((c) => c.creditedNow).sort()).toEqual(['0.000000', '0.000000', '0.000000', '0.000000', '2.500000']);
    expect(await balance(account)).toBe('2.500000');

    const again = await check(account, request.reference);
    expect(again.creditedNow).toBe('0.000000');
    expect(again.decisions).toEqual([]); // decided signatures are not fetched again
    expect(again.status).toBe('used'); // the requested amount arrived
    expect(again.deposits).toEqual([expect.objectContaining({ signature: payment.signature, status: 'credited', amount: '2.500000' })]);
    await runCron();
    expect(await balance(account)).toBe('2.500000');

    const ledger = await env.DB.prepare(`SELECT count(*) AS n FROM ledger_transactions WHERE idempotency_key = ?`)
      .bind(`deposit:${payment.signature}`)
      .first<{ n: number }>();
    expect(ledger?.n).toBe(1);
    await expectLedgerReconciles();
  });

  it('the cron finds a payment nobody checked, overlapping runs and a check credit it once, and the cursor moves past it', async () => {
    const account = await devAccount();
    const request = await requestDeposit(account);
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    const first = await pay(payer, 1_234_567n, { reference: request.reference });
    await Promise.all([runCron(), runCron(), check(account, request.reference)]);
    expect(await balance(account)).toBe('1.234567');
    const cursor = await env.DB.prepare('SELECT scanned_until, status FROM deposit_references WHERE reference = ?')
      .bind(request.reference)
      .first();
    expect(cursor).toEqual({ scanned_until: first.signature, status: 'open' }); // no amount named: stays open

    // A second payment under the same open reference is a second deposit, credited once as well.
    const second = await pay(payer, 1n, { reference: request.reference });
    await runCron();
    await runCron();
    expect(await balance(account)).toBe('1.234568');
    const after = await env.DB.prepare('SELECT scanned_until FROM deposit_references WHERE reference = ?').bind(request.reference).first();
    expect(after).toEqual({ scanned_until: second.signature });
    await expectLedgerReconciles();
  });

  it('records and ignores a failed transaction, a look-alike mint, a transfer to another account and a short amount', async () => {
    const account = await devAccount();
    const request = await requestDeposit(account, { amount: '5' });
    const poor = await newChainWallet({ tokens: 1n * TOKEN });
    const scammer = await newChainWallet({ lookAlikeTokens: 100n * TOKEN });
    const payer = await newChainWallet({ tokens: 100n * TOKEN });
    const someoneElse = await newChainWallet();

    const failed = await pay(poor, 5n * TOKEN, { reference: request.reference });
    expect(failed.landed).toBe(true);
    expect(failed.err).not.toBeNull();
    const lookAlike = await pay(scammer, 5n * TOKEN, { reference: request.reference, mint: 'lookAlike' });
    const elsewhere = await pay(payer, 5n * TOKEN, { reference: request.reference, to: someoneElse });
    const short = await pay(payer, 5n * TOKEN - 1n, { reference: request.reference });
    for (const p of [lookAlike, elsewhere, short]) expect(p).toMatchObject({ landed: true, err: null });

    const result = await check(account, request.reference);
    expect(result.creditedNow).toBe('0.000000');
    const reasons = Object.fromEntries(result.decisions.map((d) => [d.signature, [d.outcome, d.reason]]));
    expect(reasons).toEqual({
      [failed.signature]: ['ignored', 'failed_tx'],
      [lookAlike.signature]: ['ignored', 'wrong_mint'],
      [elsewhere.signature]: ['ignored', 'wrong_destination'],
      [short.signature]: ['ignored', 'short_amount'],
    });
    expect(await balance(account)).toBe('0.000000');
    await runCron();
    expect(await balance(account)).toBe('0.000000');

    // Recorded for good: visible to the account, never fetched again, never credited.
    const list = (await (await getWithKey('/v1/accounts/me/deposits', account.apiKey)).json()) as CheckResult;
    expect(list.deposits).toHaveLength(4);
    expect(list.deposits.every((d) => d.status === 'ignored' && d.reason !== null && d.detail !== null)).toBe(true);
    expect((await check(account, request.reference)).decisions).toEqual([]);

    // The real payment under the same reference still counts.
    const good = await pay(payer, 5n * TOKEN, { reference: request.reference });
    const credited = await check(account, request.reference);
    expect(credited.decisions).toEqual([{ signature: good.signature, outcome: 'credited', reason: null, amount: '5.000000' }]);
    expect(await balance(account)).toBe('5.000000');
    await expectLedgerReconciles();
  });

  it('credits nothing and records nothing when the RPC serves another cluster', async () => {
    const account = await devAccount();
    const request = await requestDeposit(account);
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    await pay(payer, 3n * TOKEN, { reference: request.reference });
    // The same Worker with SOLANA_GENESIS_HASH naming mainnet: the local chain is not it.
    const misconfigured = { ...env, SOLANA_GENESIS_HASH: KNOWN_GENESIS_HASHES['mainnet-beta'] };
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`http://gridplane.test/v1/accounts/me/deposits/${request.reference}/check`, {
        method: 'POST',
        headers: authed(account.apiKey),
      }),
      misconfigured,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await errorOf(res)).toMatchObject({ status: 502, code: 'solana_wrong_cluster' });
    const decided = await env.DB.prepare('SELECT count(*) AS n FROM deposits WHERE reference = ?')
      .bind(request.reference)
      .first<{ n: number }>();
    expect(decided?.n).toBe(0);
    expect(await balance(account)).toBe('0.000000');
  });
});
