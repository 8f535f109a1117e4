import { describe, expect, it } from 'vitest';
import { SYSTEM_ACCOUNTS } from '../../workers/ledger/ledger-accounts.ts';
import { PAYOUT_FAILURE_LIMIT } from '../../workers/settlement/payout-run.ts';
import { balanceOf, expectLedgerReconciles } from './helpers/ledger.ts';
import { linkTelegram, say } from './helpers/operator.ts';
import {
  batchesOf,
  expectPaidOnceOnChain,
  fundedAccount,
  ledgerTransactionsOf,
  payoutRow,
  signaturesSignedFor,
  TOKEN,
  withdraw,
} from './helpers/payouts.ts';
import { chainControl, newChainWallet, runCron, sendCount, tokenAccountOf, tokenBalance, transactionsOf } from './helpers/solana.ts';
import { eventually, sentTo } from './helpers/telegram.ts';

// Payouts when the world misbehaves: an RPC provider whose backends lag behind one another, a
// recipient whose token account refuses every transfer, and two cron passes racing over one
// batch. Each is checked where the money is: token balances on the litesvm chain (every
// signature the batch ever had) and the ledger (one posting per payout, payouts_pending equal to
// the open payouts, reconciliation clean). The chain switches name the recipient's token account,
// so the files sharing the RPC server are not disturbed.

/** Runs the cron until `done` holds, at most `max` times; returns how many runs it took. */
async function cronUntil(done: () => Promise<boolean>, max: number, between?: () => Promise<unknown>): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await runCron();
    if (await done()) return i;
    await between?.();
  }
  throw new Error(`not done after ${max} cron runs`);
}

describe('a load-balanced RPC whose backends lag', () => {
  it('a sent batch whose status is read from a backend behind its block is never re-signed: paid once', async () => {
    const account = await fundedAccount('100');
    const recipient = await newChainWallet({ tokenAccount: true });
    const w = await withdraw(account, recipient, 3n * TOKEN + 7n);
    const watched = await tokenAccountOf(recipient);
    await chainControl('lagStatuses', { account: watched });

    await runCron(); // plan, sign, broadcast: it lands and is finalized at once
    const [sent] = await batchesOf([w.id]);
    expect(sent).toMatchObject({ state: 'sent', attempt: 1 });
    expect((await transactionsOf(watched)).map((t) => t.signature)).toContain(sent!.signature);

    // The finalized chain moves past the transaction's lastValidBlockHeight. A fresh backend
    // says so; the one answering the status has not seen the block holding it yet.
    await chainControl('expireBlockhash');
    await runCron();
    await runCron();
    const [waiting] = await batchesOf([w.id]);
    expect(waiting).toMatchObject({ state: 'sent', attempt: 1, signature: sent!.signature });
    expect(await signaturesSignedFor([w.id])).toEqual([sent!.signature]);
    expect(await tokenBalance(recipient)).toBe(w.amount);

    await chainControl('catchUp', { account: watched });
    await runCron();
    const [paid] = await batchesOf([w.id]);
    expect(paid).toMatchObject({ state: 'paid', attempt: 1, signature: sent!.signature });
    expect((await payoutRow(w.id)).status).toBe('paid');
    expect(await sendCount(sent!.signature!)).toBe(1);
    await expectPaidOnceOnChain(recipient, w.amount, [sent!.signature!]);
    expect(await ledgerTransactionsOf(w.id)).toEqual(['payout']);
    await expectLedgerReconciles();
  });
});

describe('one bad recipient', () => {
  it('a batch that keeps failing is split; the failing payout alone is refunded through the ledger and its owner told', async () => {
    const good = await fundedAccount('100');
    const bad = await fundedAccount('100');
    const chatId = await linkTelegram(bad.accountId);
    expect(await say({ chatId }, '/alerts on')).toMatch(/payouts/);
    const recipients = await Promise.all(Array.from({ length: 3 }, () => newChainWallet({ tokenAccount: true })));
    const frozen = await newChainWallet({ tokenAccount: true });
    const goods = await Promise.all(recipients.map((r, i) => withdraw(good, r, 2n * TOKEN + BigInt(i))));
    const refused = await withdraw(bad, frozen, 4n * TOKEN);
    const ids = [...goods.map((w) => w.id), refused.id];
    expect(refused.fee).toBe(0n);
    const badBalance = await balanceOf(bad.accountId);
    // The recipient's token account refuses every transfer (frozen): the whole batch fails with it.
    await chainControl('freezeTokenAccount', { owner: frozen });

    await runCron();
    expect((await batchesOf(ids)).map((b) => b.payouts)).toEqual([4]);
    const runs = await cronUntil(
      async () => (await payoutRow(refused.id)).status === 'cancelled',
      30,
      () => chainControl('expireBlockhash'),
    );
    expect(runs).toBeLessThanOrEqual(12);
    for (let i = 0; i < 3 && (await Promise.all(goods.map(async (w) => (await payoutRow(w.id)).status))).some((s) => s !== 'paid'); i++)
      await runCron();

    // The good payouts were paid, once each, in batches without the bad one.
    for (const w of goods) {
      expect((await payoutRow(w.id)).status).toBe('paid');
      await expectPaidOnceOnChain(w.destination, w.amount, await signaturesSignedFor([w.id]));
      expect(await ledgerTransactionsOf(w.id)).toEqual(['payout']);
    }
    // The bad one: tried alone before giving up, nothing arrived, and the whole amount is back.
    expect(await tokenBalance(frozen)).toBe(0n);
    expect((await payoutRow(refused.id)).failures).toBe(PAYOUT_FAILURE_LIMIT);
    expect(await ledgerTransactionsOf(refused.id)).toEqual(['refund']);
    expect(await balanceOf(bad.accountId)).toBe(badBalance + Number(refused.amount));
    await expectLedgerReconciles();

    // Its owner hears about it in the chat (the alert pump runs on the cron).
    const line = await eventually(async () => {
      await runCron();
      const lines = (await sentTo(chatId)).flatMap((c) => String(c.body.text).split('\n')).filter((l) => l.startsWith('↩️'));
      expect(lines).toHaveLength(1);
      return lines[0]!;
    });
    expect(line).toMatch(
      /^↩️ Withdrawal of 4 tokens refunded to your balance at \d\d:\d\d UTC: the recipient's token account refused the transfer\.$/,
    );
  });
});

describe('two cron passes racing over one batch', () => {
  it('of two passes that both find a dropped batch expired, one re-signs; the recipient and the ledger are paid once', async () => {
    const account = await fundedAccount('100');
    const recipients = await Promise.all(Array.from({ length: 2 }, () => newChainWallet({ tokenAccount: true })));
    const ws = await Promise.all(recipients.map((r, i) => withdraw(account, r, 5n * TOKEN + BigInt(i))));
    const ids = ws.map((w) => w.id);
    const watched = await tokenAccountOf(recipients[0]!);
    await chainControl('dropNextSend', { account: watched });
    const treasuryBefore = await balanceOf(SYSTEM_ACCOUNTS.treasury);

    await runCron(); // sent, but lost
    const [lost] = await batchesOf(ids);
    expect(lost).toMatchObject({ state: 'sent', attempt: 1 });
    await chainControl('expireBlockhash');

    await Promise.all([runCron(), runCron(), runCron()]);
    for (let i = 0; i < 3 && (await payoutRow(ids[0]!)).status !== 'paid'; i++) await runCron();

    const [paid] = await batchesOf(ids);
    expect(paid).toMatchObject({ state: 'paid', attempt: 2 });
    const signatures = await signaturesSignedFor(ids);
    expect(signatures).toHaveLength(2); // the lost one and exactly one re-signed transaction
    expect(signatures[0]).toBe(lost!.signature);
    for (const w of ws) {
      await expectPaidOnceOnChain(w.destination, w.amount, signatures);
      expect(await ledgerTransactionsOf(w.id)).toEqual(['payout']);
    }
    for (const s of signatures) expect(await sendCount(s)).toBe(1);
    expect(await balanceOf(SYSTEM_ACCOUNTS.treasury)).toBe(treasuryBefore + Number(ws.reduce((sum, w) => sum + w.amount, 0n)));
    await expectLedgerReconciles();
  });
});
