import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../workers/app.ts';
import { parseSettlementConfig } from '../../workers/settlement/config.ts';
import { errorOf } from './helpers/agent.ts';
import { expectLedgerReconciles } from './helpers/ledger.ts';
import { authed, chainWorld, devAccount, newChainWallet, pay, runCron, type DevAccount } from './helpers/solana.ts';
import { getWithKey, postJson } from './helpers/wallet.ts';

// Deposits that others try to stall or bury, against the litesvm chain: one transaction naming
// many references (only one of them can be credited), a reference spammed with more dust than
// one scan lists, a reference whose RPC listing fails, and the cap on open references.

const TOKEN = 1_000_000n; // 6 decimals
const settlement = () => parseSettlementConfig(env as unknown as Record<string, unknown>);

beforeAll(async () => {
  await chainWorld();
});

interface CheckResult {
  reference: string;
  status: string;
  creditedNow: string;
  decisions: { signature: string; outcome: string; reason: string | null; amount: string | null }[];
}

async function requestDeposit(account: DevAccount, body: unknown = {}): Promise<string> {
  const res = await postJson('/v1/accounts/me/deposits', body, authed(account.apiKey));
  expect(res.status).toBe(201);
  return ((await res.json()) as { reference: string }).reference;
}

async function check(account: DevAccount, reference: string): Promise<CheckResult> {
  const res = await postJson(`/v1/accounts/me/deposits/${reference}/check`, {}, authed(account.apiKey));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as CheckResult;
}

async function balance(account: DevAccount): Promise<string> {
  const res = await getWithKey('/v1/accounts/me/balance', account.apiKey);
  return ((await res.json()) as { balance: string }).balance;
}

const referenceRow = (reference: string) =>
  env.DB.prepare('SELECT status, scanned_at, scanned_until FROM deposit_references WHERE reference = ?')
    .bind(reference)
    .first<{ status: string; scanned_at: number | null; scanned_until: string | null }>();

const count = async (query: string, ...binds: unknown[]) =>
  (await env.DB.prepare(query)
    .bind(...binds)
    .first<{ n: number }>())!.n;

/** `n` open references, spread over fresh accounts (a few each, under the per-account cap). */
async function referencesOfOthers(n: number): Promise<string[]> {
  const perAccount = Math.min(4, settlement().deposits.openReferencesPerAccount);
  const refs: string[] = [];
  while (refs.length < n) {
    const account = await devAccount();
    for (let i = 0; i < perAccount && refs.length < n; i++) refs.push(await requestDeposit(account));
  }
  return refs;
}

describe('a transaction that names many references', () => {
  it('is credited once, under one of them, and the others record it as already decided', async () => {
    const alice = await devAccount();
    const bob = await devAccount();
    const a = await requestDeposit(alice);
    const b = await requestDeposit(bob);
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    const both = await pay(payer, 2n * TOKEN, { references: [a, b] });
    expect(both).toMatchObject({ landed: true, err: null });

    const first = await check(alice, a);
    expect(first.decisions).toEqual([{ signature: both.signature, outcome: 'credited', reason: null, amount: '2.000000' }]);
    // Bob's reference lists the same signature: decided already, not an error, and not credited again.
    const second = await check(bob, b);
    expect(second.creditedNow).toBe('0.000000');
    expect(second.decisions).toEqual([expect.objectContaining({ signature: both.signature, outcome: 'already_decided' })]);
    expect(await referenceRow(b)).toMatchObject({ scanned_until: both.signature });
    expect((await check(bob, b)).decisions).toEqual([]); // the cursor moved past it

    // The same race between two checks at once: one credits, the other sees it decided.
    const carol = await devAccount();
    const dave = await devAccount();
    const c = await requestDeposit(carol);
    const d = await requestDeposit(dave);
    const raced = await pay(payer, 3n * TOKEN, { references: [c, d] });
    const outcomes = await Promise.all([check(carol, c), check(dave, d)]);
    expect(outcomes.flatMap((o) => o.decisions.map((x) => x.outcome)).sort()).toEqual(['already_decided', 'credited']);
    expect([await balance(carol), await balance(dave)].sort()).toEqual(['0.000000', '3.000000']);

    expect([await balance(alice), await balance(bob)]).toEqual(['2.000000', '0.000000']);
    for (const sig of [both.signature, raced.signature]) {
      expect(await count('SELECT count(*) AS n FROM ledger_transactions WHERE idempotency_key = ?', `deposit:${sig}`)).toBe(1);
      expect(await count('SELECT count(*) AS n FROM deposits WHERE signature = ?', sig)).toBe(1);
    }
    await expectLedgerReconciles();
  });

  it('naming 26 references does not stall the cron: a real deposit made after it is credited', async () => {
    const refs = await referencesOfOthers(26);
    const attacker = await newChainWallet({ tokens: 10n * TOKEN });
    const spam = await pay(attacker, 1n, { references: refs });
    expect(spam).toMatchObject({ landed: true, err: null });

    const victim = await devAccount();
    const reference = await requestDeposit(victim);
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    const real = await pay(payer, 7n * TOKEN, { reference });
    expect(real).toMatchObject({ landed: true, err: null });

    // Enough passes for every open reference to come round once, and one more.
    const open = await count(`SELECT count(*) AS n FROM deposit_references WHERE status = 'open'`);
    const passes = Math.ceil(open / settlement().deposits.scanReferencesPerRun) + 1;
    const start = Date.now();
    for (let i = 0; i < passes; i++) await runCron(start + i * 60_000);
    expect(await balance(victim)).toBe('7.000000');

    // Every named reference was scanned and moved past the transaction, which was credited once.
    for (const ref of refs)
      expect(await referenceRow(ref)).toMatchObject({ scanned_until: spam.signature, scanned_at: expect.any(Number) });
    expect(await count('SELECT count(*) AS n FROM deposits WHERE signature = ?', spam.signature)).toBe(1);
    expect(await count('SELECT count(*) AS n FROM ledger_transactions WHERE idempotency_key = ?', `deposit:${spam.signature}`)).toBe(1);
    await expectLedgerReconciles();
  });
});

describe('a reference spammed with dust', () => {
  it('does not hide a real deposit behind more signatures than one scan lists', async () => {
    const victim = await devAccount();
    const reference = await requestDeposit(victim);
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    const real = await pay(payer, 4n * TOKEN, { reference });
    expect(real).toMatchObject({ landed: true, err: null });

    // 130 look-alike transfers naming the public reference, each a distinct transaction, all newer.
    const scammer = await newChainWallet({ lookAlikeTokens: 10n * TOKEN });
    const dust: string[] = [];
    for (let i = 1; i <= 130; i++) {
      const p = await pay(scammer, BigInt(i), { reference, mint: 'lookAlike' });
      expect(p).toMatchObject({ landed: true, err: null });
      dust.push(p.signature);
    }

    // Each check lists at most one scan's worth; within a bounded number the real one is reached.
    let credited = '0.000000';
    for (let i = 0; i < 3 && credited === '0.000000'; i++) credited = (await check(victim, reference)).creditedNow;
    expect(credited).toBe('4.000000');
    expect(await balance(victim)).toBe('4.000000');
    expect(
      await count(`SELECT count(*) AS n FROM deposits WHERE reference = ? AND status = 'ignored' AND reason = 'wrong_mint'`, reference),
    ).toBe(130);
    // The gap is closed: the cursor stands at the newest dust, and a later deposit is found at once.
    expect(await referenceRow(reference)).toMatchObject({ scanned_until: dust.at(-1) });
    const later = await pay(payer, 1n * TOKEN, { reference });
    const next = await check(victim, reference);
    expect(next.decisions).toEqual([{ signature: later.signature, outcome: 'credited', reason: null, amount: '1.000000' }]);
    expect(await balance(victim)).toBe('5.000000');
    await expectLedgerReconciles();
  });

  it('the cron closes the gap too, from where the last scan stopped', async () => {
    const victim = await devAccount();
    const reference = await requestDeposit(victim);
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    await pay(payer, 6n * TOKEN, { reference });
    const scammer = await newChainWallet({ lookAlikeTokens: 10n * TOKEN });
    for (let i = 1; i <= 105; i++) expect((await pay(scammer, BigInt(i), { reference, mint: 'lookAlike' })).landed).toBe(true);

    const open = await count(`SELECT count(*) AS n FROM deposit_references WHERE status = 'open'`);
    const passesPerRound = Math.ceil(open / settlement().deposits.scanReferencesPerRun);
    const start = Date.now();
    // Two scans of this reference are needed (105 dust + 1 > one scan); give each its round.
    for (let i = 0; i < 2 * passesPerRound + 1 && (await balance(victim)) === '0.000000'; i++) await runCron(start + i * 60_000);
    expect(await balance(victim)).toBe('6.000000');
    await expectLedgerReconciles();
  });
});

describe('scan time', () => {
  it('is written when the RPC fails, so a reference that cannot be scanned does not keep its place at the front', async () => {
    const account = await devAccount();
    const reference = await requestDeposit(account);
    // The same Worker with an RPC URL where nothing listens (loopback, a closed port).
    const unreachable = { ...env, SOLANA_RPC_URL: 'http://127.0.0.1:9' };
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`http://gridplane.test/v1/accounts/me/deposits/${reference}/check`, { method: 'POST', headers: authed(account.apiKey) }),
      unreachable,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await errorOf(res)).toMatchObject({ status: 502, code: 'solana_rpc_unavailable' });
    expect((await referenceRow(reference))?.scanned_at).toEqual(expect.any(Number));
  });
});

describe('open references per account', () => {
  it('are capped with a clear 409 that changes nothing; a used one frees a place', async () => {
    const cap = settlement().deposits.openReferencesPerAccount;
    const account = await devAccount();
    // Concurrent requests cannot overshoot the cap.
    const results = await Promise.all(
      Array.from({ length: cap + 3 }, () => postJson('/v1/accounts/me/deposits', { amount: '1' }, authed(account.apiKey))),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(cap);
    const refused = results.find((r) => r.status !== 201)!;
    expect(await errorOf(refused)).toMatchObject({ status: 409, code: 'too_many_open_deposit_references' });
    expect(await count('SELECT count(*) AS n FROM deposit_references WHERE account_id = ?', account.accountId)).toBe(cap);

    // Paying one (its amount named) makes it `used`; then one more may be opened.
    const refs = await env.DB.prepare('SELECT reference FROM deposit_references WHERE account_id = ? ORDER BY created_at')
      .bind(account.accountId)
      .all<{ reference: string }>();
    const one = refs.results[0]!.reference;
    const payer = await newChainWallet({ tokens: 10n * TOKEN });
    await pay(payer, 1n * TOKEN, { reference: one });
    expect((await check(account, one)).status).toBe('used');
    await requestDeposit(account);
    const over = await postJson('/v1/accounts/me/deposits', {}, authed(account.apiKey));
    expect(await errorOf(over)).toMatchObject({ status: 409, code: 'too_many_open_deposit_references' });
  });
});
