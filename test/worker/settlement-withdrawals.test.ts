import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { errorOf } from './helpers/agent.ts';
import { balanceOf, expectLedgerReconciles } from './helpers/ledger.ts';
import { linkTelegram, say } from './helpers/operator.ts';
import {
  baseUnits,
  fundedAccount,
  ledgerTransactionsOf,
  payoutRow,
  requestWithdrawal,
  TOKEN,
  wholeTokens,
  withdraw,
  withdrawalsOf,
} from './helpers/payouts.ts';
import { chainControl, newChainWallet, runCron, tokenAccountOf, tokenBalance, transactionsOf, type DevAccount } from './helpers/solana.ts';
import { eventually, sentTo } from './helpers/telegram.ts';
import { getWithKey } from './helpers/wallet.ts';

// Withdrawals cost the treasury SOL: every recipient without a token account for our mint gets
// one created, ~0.00204 SOL of rent. So a withdrawal has a minimum, a destination without a token
// account is charged a fee for that rent, and both are quoted before the person confirms. The fee
// stays in system:payouts_pending until the payout is paid (then it is fee income) or refunded
// (then it goes back with the rest).

interface Quote {
  amount: string;
  fee: string;
  netAmount: string;
  minimum: string;
  destination: string;
  tokenAccount: { address: string; exists: boolean };
}

async function quote(account: DevAccount, amount: string, destination?: string): Promise<Response> {
  const query = new URLSearchParams({ amount, ...(destination ? { destination } : {}) });
  return getWithKey(`/v1/accounts/me/withdrawals/quote?${query}`, account.apiKey);
}

async function quoted(account: DevAccount, amount: string, destination?: string): Promise<Quote> {
  const res = await quote(account, amount, destination);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Quote;
}

const payoutCount = async (accountId: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM payouts WHERE account_id = ?').bind(accountId).first<{ n: number }>())!.n;

describe('withdrawal minimum', () => {
  it('refuses a withdrawal under the minimum, quoting it, and changes nothing', async () => {
    const account = await fundedAccount('10');
    const destination = await newChainWallet({ tokenAccount: true });
    const { minimum } = await quoted(account, '2', destination);
    const min = baseUnits(minimum);
    expect(min).toBeGreaterThan(1n);

    for (const amount of ['0.000001', wholeTokens(min - 1n)]) {
      expect(await errorOf(await requestWithdrawal(account, { amount, destination }))).toMatchObject({
        status: 400,
        code: 'amount_below_minimum',
      });
      expect(await errorOf(await quote(account, amount, destination))).toMatchObject({ status: 400, code: 'amount_below_minimum' });
    }
    expect(await payoutCount(account.accountId)).toBe(0);
    expect(await balanceOf(account.accountId)).toBe(10 * Number(TOKEN));
    // A million-way split of one balance is now at most balance / minimum payouts.
    expect((await requestWithdrawal(account, { amount: wholeTokens(min), destination })).status).toBe(201);
  });
});

describe('token-account rent', () => {
  it('a destination without a token account is quoted and charged the rent fee; it arrives net, the fee becomes income at payout', async () => {
    const account = await fundedAccount('50');
    const withAccount = await newChainWallet({ tokenAccount: true });
    const without = await chainControl<string>('newAddress');

    const free = await quoted(account, '3', withAccount);
    expect(free).toMatchObject({
      amount: '3.000000',
      fee: '0.000000',
      netAmount: '3.000000',
      destination: withAccount,
      tokenAccount: { exists: true },
    });
    const charged = await quoted(account, '3', without);
    expect(charged.tokenAccount).toEqual({ address: await tokenAccountOf(without), exists: false });
    const fee = baseUnits(charged.fee);
    expect(fee).toBeGreaterThan(0n);
    expect(baseUnits(charged.netAmount)).toBe(3n * TOKEN - fee);
    // The fee must leave something to send, and the quote says so before anything moves.
    expect(await errorOf(await quote(account, wholeTokens(fee), without))).toMatchObject({ status: 400 });

    // A confirmation that caps the fee below the quote is refused (the fee changed since it was shown).
    expect(await errorOf(await requestWithdrawal(account, { amount: '3', destination: without, maxFee: '0' }))).toMatchObject({
      status: 409,
      code: 'fee_changed',
    });
    expect(await payoutCount(account.accountId)).toBe(0);

    const res = await requestWithdrawal(account, { amount: '3', destination: without, maxFee: charged.fee });
    expect(res.status).toBe(201);
    const { payout } = (await res.json()) as { payout: { id: string; amount: string; fee: string; netAmount: string } };
    expect(payout).toMatchObject({ amount: '3.000000', fee: charged.fee, netAmount: charged.netAmount });
    expect(await balanceOf(account.accountId)).toBe(47 * Number(TOKEN));
    await expectLedgerReconciles(); // payouts_pending holds the whole 3 while the payout is open

    const fees = await balanceOf(SYSTEM_ACCOUNTS.fees);
    for (let i = 0; i < 4 && (await payoutRow(payout.id)).status !== 'paid'; i++) await runCron();
    expect((await payoutRow(payout.id)).status).toBe('paid');
    expect(await tokenBalance(without)).toBe(3n * TOKEN - fee); // the account was created, the net amount arrived
    expect(await balanceOf(SYSTEM_ACCOUNTS.fees)).toBe(fees + Number(fee));
    expect((await withdrawalsOf(account)).find((p) => p.id === payout.id)).toMatchObject({
      status: 'paid',
      fee: charged.fee,
      netAmount: charged.netAmount,
    });
    await expectLedgerReconciles();
  });

  it('a payout quoted without the fee whose recipient then closed its token account is refunded, not paid at the treasury’s expense', async () => {
    const account = await fundedAccount('20');
    const chatId = await linkTelegram(account.accountId);
    expect(await say({ chatId }, '/alerts on')).toMatch(/payouts/);
    const recipient = await newChainWallet({ tokenAccount: true });
    const w = await withdraw(account, recipient, 5n * TOKEN);
    expect(w.fee).toBe(0n);
    const before = await balanceOf(account.accountId);
    await chainControl('closeTokenAccount', { owner: recipient });

    await runCron();
    expect((await payoutRow(w.id)).status).toBe('cancelled');
    expect(await ledgerTransactionsOf(w.id)).toEqual(['refund']);
    expect(await balanceOf(account.accountId)).toBe(before + Number(w.amount));
    expect(await transactionsOf(await tokenAccountOf(recipient))).toHaveLength(2); // its creation and its closing: no payout
    await expectLedgerReconciles();

    const line = await eventually(async () => {
      await runCron();
      const lines = (await sentTo(chatId)).flatMap((c) => String(c.body.text).split('\n')).filter((l) => l.startsWith('↩️'));
      expect(lines).toHaveLength(1);
      return lines[0]!;
    });
    expect(line).toMatch(
      /^↩️ Withdrawal of 5 tokens refunded to your balance at \d\d:\d\d UTC: the recipient has no token account any more; withdraw again to have it created \(for a fee\)\.$/,
    );
  });
});
